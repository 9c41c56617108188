// The live viewer: asks the media relay for the camera's picture over WebRTC (WHEP, one offer
// with every ICE candidate, no trickle), shows it, and asks the console every second whether the
// grant is still open; when it has ended the picture stops and the page says why.
//
// When the picture is interrupted (the owner's bridge lost its network or restarted, the relay
// restarted: the connection closes or fails, or no frame arrives for STALL_MS) the page says
// "stream interrupted" and opens the stream again by itself, every few seconds, for as long as
// the grant has time left; never after the grant's end, whatever the console or the relay say.
// Each new opening is a new WHEP request, which the relay authorises again with Canvass.
(function () {
  "use strict";

  var root = document.getElementById("live-viewer");
  if (!root) {
    return;
  }
  var video = document.getElementById("live-video");
  var message = document.getElementById("live-message");
  var timeLeft = document.getElementById("live-time-left");
  var relay = root.dataset.relay;
  var token = root.dataset.token;
  var statusUrl = root.dataset.statusUrl;
  var peer = null;
  var resource = null; // the relay's Location for this viewer, deleted when the page is done
  var ended = false;
  var poller = null;
  // The grant's end on this page's clock: no reconnection after it, even if the console does
  // not answer to say the grant has ended.
  var endsAt = Date.now() + 1000 * Number(timeLeft ? timeLeft.textContent : 0);
  var STALL_MS = 3000; // no new frame for this long: the stream is interrupted
  var RETRY_MS = [1000, 2000, 3000]; // then every 3 s
  var interrupted = false; // the picture stopped and the page is trying to get it back
  var retries = 0;
  var retryTimer = null;
  var lastFrames = 0; // frames decoded at the last watch, and when that count last moved
  var lastMoved = 0;
  var playedOnce = false;

  function say(text) {
    if (message) {
      message.textContent = text;
    }
  }

  function leave() {
    if (resource) {
      // keepalive: the request outlives the page when it is being closed.
      fetch(resource, {
        method: "DELETE",
        headers: { Authorization: "Bearer " + token },
        keepalive: true,
      }).catch(function () {});
      resource = null;
    }
  }

  function stop(text) {
    leave();
    ended = true;
    interrupted = false;
    if (retryTimer !== null) {
      window.clearTimeout(retryTimer);
      retryTimer = null;
    }
    if (poller !== null) {
      window.clearInterval(poller);
      poller = null;
    }
    if (peer) {
      peer.close();
      peer = null;
    }
    if (video) {
      video.pause();
      video.srcObject = null;
      video.hidden = true;
    }
    if (timeLeft) {
      timeLeft.textContent = "0";
    }
    say(text);
  }

  function iceGathered(connection) {
    if (connection.iceGatheringState === "complete") {
      return Promise.resolve();
    }
    return new Promise(function (resolve) {
      function check() {
        if (connection.iceGatheringState === "complete") {
          connection.removeEventListener("icegatheringstatechange", check);
          resolve();
        }
      }
      connection.addEventListener("icegatheringstatechange", check);
      // Without a reachable STUN server gathering can stall: send what there is after 2 s.
      window.setTimeout(resolve, 2000);
    });
  }

  function grantLeft() {
    return !ended && Date.now() < endsAt;
  }

  // The picture is gone but the grant is not: say so, drop the dead connection, open again.
  function interrupt() {
    if (ended || retryTimer !== null) {
      return;
    }
    if (!grantLeft()) {
      stop(root.dataset.endedPrefix + " " + root.dataset.expired);
      return;
    }
    interrupted = true;
    say(root.dataset.interrupted);
    leave();
    if (peer) {
      var dead = peer;
      peer = null;
      dead.close();
    }
    var delay = RETRY_MS[Math.min(retries, RETRY_MS.length - 1)];
    retries += 1;
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      if (grantLeft()) {
        play();
      } else if (!ended) {
        stop(root.dataset.endedPrefix + " " + root.dataset.expired);
      }
    }, delay);
  }

  // Called every second: frames still arriving? Counted from the connection's statistics (the
  // frames decoded): a live video's currentTime runs on whether frames come or not.
  function watchFrames() {
    if (ended || !video || !peer || retryTimer !== null) {
      return;
    }
    var connection = peer;
    var state = connection.connectionState;
    if (state === "new" || state === "connecting") {
      // Still opening (the relay may wait seconds for the bridge to start): not a stall; a
      // connection that cannot be made ends "failed", which interrupts it.
      lastMoved = Date.now();
      return;
    }
    connection
      .getStats()
      .then(function (report) {
        var frames = 0;
        report.forEach(function (entry) {
          if (entry.type === "inbound-rtp" && entry.kind === "video") {
            frames = entry.framesDecoded || 0;
          }
        });
        if (connection !== peer || ended || retryTimer !== null) {
          return;
        }
        var now = Date.now();
        if (frames !== lastFrames) {
          if (frames > 0) {
            playedOnce = true;
            if (interrupted) {
              interrupted = false;
              retries = 0;
              say(root.dataset.resumed);
            }
          }
          lastFrames = frames;
          lastMoved = now;
        } else if (playedOnce && now - lastMoved > STALL_MS) {
          interrupt();
        }
      })
      .catch(function () {});
  }

  function play() {
    peer = new RTCPeerConnection();
    var connection = peer;
    lastFrames = 0;
    lastMoved = Date.now();
    connection.addTransceiver("video", { direction: "recvonly" });
    connection.addEventListener("track", function (event) {
      if (video && !ended && connection === peer) {
        video.srcObject = event.streams[0] || new MediaStream([event.track]);
        video.play().catch(function () {});
      }
    });
    connection.addEventListener("connectionstatechange", function () {
      var state = connection.connectionState;
      if (connection === peer && (state === "failed" || state === "closed")) {
        interrupt();
      }
    });
    return connection
      .createOffer()
      .then(function (offer) {
        return connection.setLocalDescription(offer);
      })
      .then(function () {
        return iceGathered(connection);
      })
      .then(function () {
        return fetch(relay.replace(/\/$/, "") + "/whep/camera/" + root.dataset.camera, {
          method: "POST",
          headers: {
            "Content-Type": "application/sdp",
            Authorization: "Bearer " + token,
          },
          body: connection.localDescription.sdp,
        });
      })
      .then(function (response) {
        if (response.status !== 201) {
          // The relay's own messages are English for operators; the page says it in the
          // viewer's language, by what the status means.
          var said = {
            401: root.dataset.refused,
            403: root.dataset.refused,
            503: root.dataset.offline,
          }[response.status];
          var error = new Error(said || root.dataset.unavailable);
          // Refused (401, 403): the grant or the owner's sharing no longer allows it; opening
          // again would be refused again. Anything else may pass: the bridge or relay returning.
          error.retry = response.status !== 401 && response.status !== 403;
          throw error;
        }
        var location = response.headers.get("Location");
        if (location) {
          resource = new URL(location, relay.replace(/\/$/, "") + "/").toString();
        }
        return response.text().then(function (answer) {
          if (!ended) {
            return connection.setRemoteDescription({ type: "answer", sdp: answer });
          }
          return undefined;
        });
      })
      .catch(function (error) {
        if (ended || connection !== peer) {
          return;
        }
        if (interrupted && (error instanceof TypeError || error.retry)) {
          // Still interrupted (the relay or the bridge not back yet): the message stands.
          peer = null;
          connection.close();
          interrupt();
          return;
        }
        // A network failure (the relay unreachable) has no status: say so plainly.
        say(error instanceof TypeError ? root.dataset.relayDown : error.message);
      });
  }

  function poll() {
    fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (status) {
        if (ended) {
          return;
        }
        if (timeLeft) {
          timeLeft.textContent = String(status.seconds_left);
        }
        endsAt = Date.now() + 1000 * status.seconds_left;
        if (!status.open) {
          stop(root.dataset.endedPrefix + " " + status.ended);
        }
      })
      .catch(function () {
        // A missed poll is tried again in a second; the relay stops the picture by itself.
      });
  }

  if (relay && token && window.RTCPeerConnection) {
    play();
    window.addEventListener("pagehide", leave);
  }
  if (statusUrl && !root.dataset.ended) {
    poller = window.setInterval(function () {
      poll();
      watchFrames();
    }, 1000);
  }
})();

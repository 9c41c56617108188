// The live viewer: asks the media relay for the camera's picture over WebRTC (WHEP, one offer
// with every ICE candidate, no trickle), shows it, and asks the console every second whether the
// grant is still open; when it has ended the picture stops and the page says why.
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

  function play() {
    peer = new RTCPeerConnection();
    var connection = peer;
    connection.addTransceiver("video", { direction: "recvonly" });
    connection.addEventListener("track", function (event) {
      if (video && !ended) {
        video.srcObject = event.streams[0] || new MediaStream([event.track]);
        video.play().catch(function () {});
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
          throw new Error(said || root.dataset.unavailable);
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
        if (!ended) {
          // A network failure (the relay unreachable) has no status: say so plainly.
          say(error instanceof TypeError ? root.dataset.relayDown : error.message);
        }
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
    poller = window.setInterval(poll, 1000);
  }
})();

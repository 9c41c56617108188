"""Department licenses: the yearly platform fee, invoiced the way cities buy (a Stripe invoice sent
for payment by bank transfer, net 30, the purchase-order number on it). Its status comes back
through the invoice webhooks (billing.services.invoice_record); `licenses_check` marks an unpaid
license overdue and warns the vendor's billing staff and the department's administrators once.
An overdue license never suspends a department: that stays a deliberate vendor action."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import partial

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.gateway import (
    Gateway,
    PaymentsNotConfigured,
    StripeDict,
    StripeRefused,
    StripeUnavailable,
    gateway,
)
from billing.models import Alert, Customer, License
from billing.services import in_department, invoice_record
from portal.registry.emails import email_send
from portal.registry.models import StaffMember
from tenants.models import Department

NET_DAYS = 30
# Stripe's largest amount for one invoice item in USD ($999,999.99).
AMOUNT_MAX = 99_999_999
AMOUNT_MIN = 50
# How a city pays a license invoice: a bank transfer to the account number Stripe shows on the
# invoice (customer_balance with a US bank transfer: ACH credit or wire, what city treasuries
# use), or ACH debit from the city's account (us_bank_account). A paper check is not a Stripe
# payment method: it is recorded at Stripe as paid out of band, and the invoice.paid webhook
# brings it back here the same way.
PAYMENT_SETTINGS: StripeDict = {
    "payment_method_types": ["customer_balance", "us_bank_account"],
    "payment_method_options": {
        "customer_balance": {
            "funding_type": "bank_transfer",
            "bank_transfer": {"type": "us_bank_transfer"},
        }
    },
}
PO_FIELD = "PO number"
_currency_format = RegexValidator(r"^[a-z]{3}$")


def renewal_date(period_start: date) -> date:
    """A year after the period starts (28 February after a 29 February)."""
    try:
        return period_start.replace(year=period_start.year + 1)
    except ValueError:
        return period_start.replace(year=period_start.year + 1, day=28)


def _administrator_emails(department: Department) -> list[str]:
    with in_department(department):
        return list(
            StaffMember.objects.filter(
                role=StaffMember.Role.ADMINISTRATOR, user__is_active=True
            ).values_list("user__email", flat=True)
        )


# Who runs billing is the vendor console's rule (console.access, vendor roles); the console
# registers it here when it starts (ConsoleConfig.ready), since billing may not import it.
billing_staff_finder: Callable[[], list[str]] | None = None


def billing_staff_emails() -> list[str]:
    """Vendor staff who run billing, in the public schema: by their vendor role when the console
    registered its rule, else by the billing.run_billing permission."""
    if billing_staff_finder is not None:
        with schema_context("public"):
            return billing_staff_finder()
    with schema_context("public"):
        permission = Permission.objects.filter(
            content_type__app_label="billing", codename="run_billing"
        ).first()
        users = get_user_model().objects.filter(is_active=True, is_staff=True)
        if permission is None:
            return list(users.filter(is_superuser=True).values_list("email", flat=True))
        return list(
            users.filter(
                Q(is_superuser=True)
                | Q(user_permissions=permission)
                | Q(groups__permissions=permission)
            )
            .distinct()
            .values_list("email", flat=True)
        )


def license_terms_problems(
    *, amount: int, currency: str, po_number: str, contract: str, po_required: bool = True
) -> dict[str, list[str]]:
    """What is wrong with a license's terms alone (no department needed): the amount, the
    currency, the PO number (required unless `po_required` is False: a draft may wait for it)
    and the contract reference."""
    problems: dict[str, list[str]] = {}
    if not AMOUNT_MIN <= amount <= AMOUNT_MAX:
        problems["amount"] = ["The amount must be between 0.50 and 999,999.99."]
    if currency != "usd":
        # The payment methods (a US bank transfer, ACH) are in US dollars.
        problems["currency"] = ["Licenses are invoiced in US dollars (usd)."]
    if not po_number.strip():
        if po_required:
            problems["po_number"] = ["Enter the city's purchase-order number."]
    elif len(po_number) > 60:
        problems["po_number"] = ["A purchase-order number has at most 60 characters."]
    if len(contract) > 120:
        problems["contract"] = ["A contract reference has at most 120 characters."]
    return problems


def _validate(
    *,
    department: Department,
    period_start: date,
    amount: int,
    currency: str,
    po_number: str,
    contract: str,
    po_required: bool = True,
) -> None:
    problems: dict[str, list[str]] = {}
    if department.is_platform:
        problems["department"] = ["The platform itself has no license."]
    problems |= license_terms_problems(
        amount=amount,
        currency=currency,
        po_number=po_number,
        contract=contract,
        po_required=po_required,
    )
    if License.objects.filter(department=department, period_start=period_start).exists():
        problems["period_start"] = [
            f"{department.name} already has a license starting {period_start:%Y-%m-%d}."
        ]
    if problems:
        raise ValidationError(problems)


def department_customer(*, department: Department, client: Gateway | None = None) -> Customer:
    """The department's own Stripe customer (no participant), made once."""
    existing = Customer.objects.filter(department=department, participant_id__isnull=True).first()
    if existing is not None:
        return existing
    client = client or gateway()
    administrators = _administrator_emails(department)
    email = sorted(administrators)[0] if administrators else ""
    created = client.customer_create(
        {
            "name": department.name,
            "email": email or None,
            "metadata": {"department": department.schema_name},
            "preferred_locales": ["en"],
        },
        idempotency_key=f"department-customer-{department.schema_name}",
    )
    with transaction.atomic():
        # Departments.select_for_update serialises two first licenses of one department.
        Department.objects.select_for_update().get(pk=department.pk)
        customer, _created = Customer.objects.get_or_create(
            stripe_customer_id=created["id"],
            defaults={"department": department, "participant_id": None, "email": email},
        )
    return customer


def _description(license_: License) -> str:
    return (
        f"Canvass platform license, {license_.department.name}, "
        f"{license_.period_start:%Y-%m-%d} to {license_.period_end:%Y-%m-%d}"
    )


def _po_custom_fields(po_number: str) -> list[StripeDict]:
    # Stripe refuses an empty custom field: a draft without its PO number yet has none.
    return [{"name": PO_FIELD, "value": po_number}] if po_number else []


def _draft_invoice_create(
    *, client: Gateway, license_: License, customer: Customer, actor_email: str
) -> StripeDict:
    """The license's Stripe invoice as a draft: send_invoice, net 30, the PO number as a custom
    field, payable by bank transfer; its line comes next (_draft_invoice_item_add)."""
    contract = license_.contract
    params: StripeDict = {
        "customer": customer.stripe_customer_id,
        "collection_method": "send_invoice",
        "days_until_due": NET_DAYS,
        "description": _description(license_) + (f" (contract {contract})" if contract else ""),
        "metadata": {
            "license": str(license_.pk),
            "department": license_.department.schema_name,
            "issued_by": actor_email,
        },
        "payment_settings": PAYMENT_SETTINGS,
        "pending_invoice_items_behavior": "exclude",
        "auto_advance": False,
    }
    if license_.po_number:
        params["custom_fields"] = _po_custom_fields(license_.po_number)
    return client.invoice_create(params, idempotency_key=f"license-{license_.pk}-invoice")


def _draft_invoice_item_add(
    *, client: Gateway, license_: License, customer: Customer, draft: StripeDict
) -> StripeDict:
    amount, currency = license_.amount, license_.currency
    return client.invoice_item_create(
        {
            "customer": customer.stripe_customer_id,
            "invoice": draft["id"],
            "amount": amount,
            "currency": currency,
            "description": _description(license_),
            "metadata": {"license": str(license_.pk)},
        },
        idempotency_key=f"license-{license_.pk}-item-{amount}{currency}",
    )


def license_issue(
    *,
    actor_email: str,
    department: Department,
    period_start: date,
    amount: int,
    currency: str,
    po_number: str,
    contract: str,
) -> License:
    """Invoice a department's yearly license: a draft Stripe invoice (send_invoice, net 30, the
    PO number as a custom field, payable by bank transfer), its line, finalized and sent. The
    license row exists only if every Stripe call succeeded (PaymentsNotConfigured,
    StripeUnavailable, StripeRefused otherwise; ValidationError for bad input)."""
    currency = (currency or "").strip().lower()
    po_number = (po_number or "").strip()
    contract = (contract or "").strip()
    _validate(
        department=department,
        period_start=period_start,
        amount=amount,
        currency=currency,
        po_number=po_number,
        contract=contract,
    )
    client = gateway()
    customer = department_customer(department=department, client=client)
    period_end = renewal_date(period_start)
    with transaction.atomic():
        Department.objects.select_for_update().get(pk=department.pk)
        _validate(
            department=department,
            period_start=period_start,
            amount=amount,
            currency=currency,
            po_number=po_number,
            contract=contract,
        )
        license_ = License.objects.create(
            department=department,
            period_start=period_start,
            period_end=period_end,
            amount=amount,
            currency=currency,
            po_number=po_number,
            contract=contract,
            status=License.Status.DRAFT,
        )
        draft = _draft_invoice_create(
            client=client, license_=license_, customer=customer, actor_email=actor_email
        )
        _draft_invoice_item_add(client=client, license_=license_, customer=customer, draft=draft)
        client.invoice_finalize(draft["id"])
        sent = client.invoice_send(draft["id"])
        invoice_record(stripe_invoice=sent, department=department)
    license_.refresh_from_db()
    return license_


def license_draft(
    *,
    actor_email: str,
    department: Department,
    period_start: date,
    amount: int,
    currency: str = "usd",
    po_number: str = "",
    contract: str = "",
) -> License:
    """A department's license as a draft Stripe invoice for vendor staff to send later
    (license_send): the customer, the draft and its line, neither finalized nor sent; the PO
    number may come later. The license row (status draft, the draft's id) exists only if every
    Stripe call succeeded; a draft made before a failed line is deleted again (best effort).
    Inside a caller's transaction (a department provisioned from its request) it rolls back
    with it, and the caller deletes the draft (license_draft_discard)."""
    currency = (currency or "").strip().lower()
    po_number = (po_number or "").strip()
    contract = (contract or "").strip()
    validate = partial(
        _validate,
        department=department,
        period_start=period_start,
        amount=amount,
        currency=currency,
        po_number=po_number,
        contract=contract,
        po_required=False,
    )
    validate()
    client = gateway()
    customer = department_customer(department=department, client=client)
    with transaction.atomic():
        Department.objects.select_for_update().get(pk=department.pk)
        validate()
        license_ = License.objects.create(
            department=department,
            period_start=period_start,
            period_end=renewal_date(period_start),
            amount=amount,
            currency=currency,
            po_number=po_number,
            contract=contract,
            status=License.Status.DRAFT,
        )
        draft = _draft_invoice_create(
            client=client, license_=license_, customer=customer, actor_email=actor_email
        )
        try:
            _draft_invoice_item_add(
                client=client, license_=license_, customer=customer, draft=draft
            )
        except BaseException:
            license_draft_discard(draft["id"], client=client)
            raise
        license_.stripe_invoice_id = draft["id"]
        license_.save(update_fields=["stripe_invoice_id"])
    return license_


def license_draft_discard(stripe_invoice_id: str, *, client: Gateway | None = None) -> bool:
    """Delete a draft license invoice at Stripe after the license it was made for was rolled
    back; best effort (whether it was deleted): an orphaned draft is never sent, and vendor
    staff see it in Stripe's dashboard with the license's metadata."""
    try:
        (client or gateway()).invoice_delete(stripe_invoice_id)
    except (PaymentsNotConfigured, StripeUnavailable, StripeRefused):
        return False
    return True


def license_send(*, actor_email: str, license_: License, po_number: str = "") -> License:
    """Finalize and send a draft license's Stripe invoice (net 30, payable by bank transfer);
    `po_number` fills in (or replaces) the license's purchase-order number, which sending needs
    like license_issue does. ValidationError when the license is not a draft or has no PO
    number; PaymentsNotConfigured, StripeUnavailable, StripeRefused from Stripe (the license
    stays a draft)."""
    po_number = (po_number or "").strip()
    client = gateway()
    with transaction.atomic():
        license_ = (
            License.objects.select_for_update().select_related("department").get(pk=license_.pk)
        )
        if license_.status != License.Status.DRAFT or not license_.stripe_invoice_id:
            raise ValidationError(
                f"This license is {license_.get_status_display().lower()}, not a draft: "
                "there is nothing to send."
            )
        po_number = po_number or license_.po_number
        problems = license_terms_problems(
            amount=license_.amount,
            currency=license_.currency,
            po_number=po_number,
            contract=license_.contract,
        )
        if problems:
            raise ValidationError(problems)
        invoice_id = license_.stripe_invoice_id
        if po_number != license_.po_number:
            license_.po_number = po_number
            license_.save(update_fields=["po_number"])
        client.invoice_update(
            invoice_id,
            {
                "custom_fields": _po_custom_fields(po_number),
                "metadata": {"sent_by": actor_email},
            },
        )
        client.invoice_finalize(invoice_id)
        sent = client.invoice_send(invoice_id)
        invoice_record(stripe_invoice=sent, department=license_.department)
    license_.refresh_from_db()
    return license_


def _overdue(license_: License, now: datetime) -> bool:
    today = now.astimezone(license_.department.zone).date()
    return license_.due_date is not None and license_.due_date < today


def licenses_check(
    now: datetime | None = None, *, department: Department | None = None
) -> list[License]:
    """Open licenses (of `department`, or of every department) past their due date become
    overdue; for each, an alert for the billing console and one email to the vendor's billing
    staff and the department's administrators (once: overdue_notified_at). Nothing else: the
    department keeps working. Idempotent. Returns the licenses whose warnings went out in this
    run."""
    now = now or timezone.now()
    warned = []
    candidates = License.objects.filter(
        status__in=[License.Status.OPEN, License.Status.OVERDUE],
        due_date__isnull=False,
        overdue_notified_at__isnull=True,
    ).select_related("department")
    if department is not None:
        candidates = candidates.filter(department=department)
    for candidate in candidates:
        if not _overdue(candidate, now):
            continue
        with transaction.atomic():
            license_ = (
                License.objects.select_for_update()
                .select_related("department")
                .get(pk=candidate.pk)
            )
            if license_.overdue_notified_at is not None or license_.status not in (
                License.Status.OPEN,
                License.Status.OVERDUE,
            ):
                continue
            license_.status = License.Status.OVERDUE
            license_.overdue_notified_at = now
            license_.save(update_fields=["status", "overdue_notified_at"])
            Alert.objects.create(
                kind=Alert.Kind.LICENSE_OVERDUE,
                department=license_.department,
                message=(
                    f"{license_.department.name}'s license ({license_.period_start:%Y}, "
                    f"PO {license_.po_number}) was due {license_.due_date:%Y-%m-%d} and is unpaid."
                ),
                raised_at=now,
            )
            transaction.on_commit(partial(_overdue_emails, license_))
        warned.append(license_)
    return warned


def _overdue_emails(license_: License) -> None:
    department = license_.department
    context = {"license": license_}
    for email in billing_staff_emails():
        email_send(
            template="billing/email/license_overdue_vendor",
            to=email,
            language="en",
            context=context,
            department=department,
            from_platform=True,
        )
    language = department.branding.default_language if hasattr(department, "branding") else "en"
    for email in _administrator_emails(department):
        email_send(
            template="billing/email/license_overdue",
            to=email,
            language=language,
            context={**context, "console_url": department.url("/department/license/")},
            department=department,
        )

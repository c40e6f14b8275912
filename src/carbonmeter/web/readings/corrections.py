"""Corrections people make to metering data outside an ingest: dismissing a quarantined row, recording a
counter event. Each is one service in one transaction, attributed in the history (who, when, why).

The history's "why" (simple-history's ``history_change_reason``) holds at most :data:`HISTORY_REASON_MAX`
characters. A reason is never cut silently: a dismissal's reason lives only in the history, so a longer one
is refused (:class:`ReasonTooLong`, shown next to the field); a counter event keeps its full reason in its
own ``reason`` column (and so in every history row), and the history's "why" then says that it is
shortened (:func:`history_reason`).
"""

from __future__ import annotations

from typing import Any, Final

from django.db import transaction
from django.utils.translation import gettext as _

from carbonmeter.web.readings.models import CounterEvent, QuarantinedRow

#: simple-history's ``history_change_reason`` column length.
HISTORY_REASON_MAX: Final = 100
#: Marks a "why" shortened to fit the history column (the full text is in the record itself).
SHORTENED: Final = "…"


class CorrectionError(ValueError):
    """A correction that cannot be made as asked; the message is for the person who asked."""


class ReasonTooLong(CorrectionError):
    def __init__(self, length: int, limit: int = HISTORY_REASON_MAX) -> None:
        self.length, self.limit = length, limit
        super().__init__(
            _("原因最多 %(limit)d 个字符，当前 %(length)d 个；请精简后再提交（不会被截断保存）。")
            % {"limit": limit, "length": length}
        )


class RowNotOpen(CorrectionError):
    def __init__(self) -> None:
        super().__init__(_("该行已处理，不能驳回。"))


def _reason(text: str) -> str:
    reason = text.strip()
    if not reason:
        raise CorrectionError(_("请填写原因"))
    return reason


def dismiss_row(row: QuarantinedRow, *, user: Any, reason: str) -> QuarantinedRow:
    """Dismiss the open quarantined ``row`` (it will not be stored): locked, checked still open, saved with
    ``user`` and the full ``reason`` in its history, all in one transaction."""
    text = _reason(reason)
    if len(text) > HISTORY_REASON_MAX:
        raise ReasonTooLong(len(text))
    with transaction.atomic():
        locked = QuarantinedRow.objects.select_for_update().get(pk=row.pk)
        if locked.state != "open":
            raise RowNotOpen
        locked.state = "dismissed"
        locked._change_reason = text
        locked._history_user = user  # type: ignore[attr-defined]
        locked.save()
    return locked


def history_reason(reason: str) -> str:
    """``reason`` as the history's "why": whole when it fits, else shortened with a visible mark."""
    if len(reason) <= HISTORY_REASON_MAX:
        return reason
    return reason[: HISTORY_REASON_MAX - len(SHORTENED)] + SHORTENED


def record_counter_event(event: CounterEvent, *, user: Any) -> CounterEvent:
    """Save the validated, unsaved counter ``event`` (its ``reason`` whole in its own column) with ``user``
    and the reason in its history, in one transaction."""
    event.reason = _reason(event.reason)
    with transaction.atomic():
        event._change_reason = history_reason(event.reason)
        event._history_user = user  # type: ignore[attr-defined]
        event.save()
    return event

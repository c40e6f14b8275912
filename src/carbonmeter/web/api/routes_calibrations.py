"""``/calibrations``: verification and calibration records (6.3.5–6.3.7); data clerks may add them."""

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Status

from carbonmeter.web.accounts.scope import scope_for
from carbonmeter.web.api import services
from carbonmeter.web.api.access import require_may_add, visible
from carbonmeter.web.api.auth import caller
from carbonmeter.web.api.params import READ_ERRORS, WRITE_ERRORS, InstrumentFilter
from carbonmeter.web.api.schemas import CalibrationIn, CalibrationOut
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.registry.models import Instrument

router = Router(tags=["calibrations"])


@router.get("/calibrations", response={200: list[CalibrationOut], **READ_ERRORS})
def list_calibrations(request: HttpRequest, instrument: InstrumentFilter = None) -> QuerySet[Calibration]:
    """Records, oldest first per instrument: the order in which traceability is judged."""
    user = caller(request)
    rows = scope_for(user, Calibration)
    if instrument is not None:
        rows = rows.filter(instrument=visible(user, Instrument, instrument))
    return rows.order_by("instrument_id", "date", "id")


@router.post("/calibrations", response={201: CalibrationOut, **WRITE_ERRORS})
def create_calibration(request: HttpRequest, payload: CalibrationIn) -> Status[Calibration]:
    """Add a record.  A pass is valid until ``valid_until`` (on or after ``date``); without one, until the end
    of the instrument's verification interval (``interval_months``) from ``date``, as the web form fills
    有效期至.  A pass with neither is refused: 422 on ``valid_until``."""
    user = caller(request)
    inst = visible(user, Instrument, payload.instrument)
    require_may_add(user, Calibration, inst.organization)
    return Status(201, services.record_calibration(user, inst, payload.model_dump(exclude={"instrument"})))

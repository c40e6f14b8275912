"""计量网络平衡 on the web: the main meter in the register (``Instrument.parent``), the service that fetches
the network's monthly totals and uncertainties, and the page (issue 6.3.1)."""

from __future__ import annotations

import math
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from carbonmeter.readings.demo import demo_readings
from carbonmeter.web.metrology.models import Calibration
from carbonmeter.web.readings import ledger
from carbonmeter.web.readings.balance import instrument_u_rel, year_balance
from carbonmeter.web.readings.demo_loader import _network, _profiles, _write_csv
from carbonmeter.web.readings.services import ingest
from carbonmeter.web.registry.models import Component, Instrument, Organization
from tests.web.conftest import login
from tests.web.readings.test_i18n_readings import labels
from tests.web.test_i18n import CJK, english, keep_language, page

# the autouse ``keep_language`` of test_i18n.py: each test starts in the default language
__all__ = ["keep_language"]

MONTH = date(2026, 10, 1)  # the demo month: the network's data run from August to October 2026


def load_network(org: Organization) -> None:
    """The demo's mine network only (its points, main meters, profiles and ``network.csv``), through the
    loader's own steps and the one ingest service: the rest of the demo month is not needed here."""
    demo = demo_readings(MONTH)
    _network(org, demo)
    _profiles(org, demo)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "network.csv"
        _write_csv(path, demo.files["network.csv"])
        run = ingest(org, source="upload", path=path, filename=path.name, user=None)
    assert run.rows_quarantined == 0 and run.rows_accepted == len(demo.files["network.csv"])


def instrument(org: Organization, code: str) -> Instrument:
    return Instrument.objects.get(organization=org, code=code)


# --- the register ----------------------------------------------------------------------------------------


def test_main_meter_must_be_of_the_same_organization_and_not_close_a_cycle(
    org_a: Organization, org_b: Organization
) -> None:
    main, sub, subsub = instrument(org_a, "KS-02"), instrument(org_a, "KS-03"), instrument(org_a, "KS-04")
    sub.parent = main
    sub.full_clean()
    sub._change_reason = "test"
    sub.save()
    subsub.parent = sub
    subsub.full_clean()
    subsub._change_reason = "test"
    subsub.save()
    main.parent = subsub  # KS-02 → KS-04 → KS-03 → KS-02
    with pytest.raises(ValidationError) as err:
        main.full_clean()
    assert "KS-02 → KS-04 → KS-03 → KS-02" in str(err.value.message_dict["parent"])
    main.parent = main
    with pytest.raises(ValidationError, match="自身"):
        main.full_clean()
    main.parent = Instrument.objects.filter(organization=org_b).first()
    with pytest.raises(ValidationError, match="同一单位"):
        main.full_clean()


def test_instrument_page_shows_the_main_meter_the_sub_meters_and_the_change_in_history(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    main, sub = instrument(org_a, "KS-02"), instrument(org_a, "KS-03")
    sub.parent = main
    sub._change_reason = "登记矿山计量网络"
    sub.save()
    login(client, users["officer_a"])
    html = client.get(reverse("instrument_detail", args=["KS-03"])).content.decode()
    parent = html[html.index('id="parent-meter"') :]
    assert (
        "上级计量器具" in html
        and reverse("instrument_detail", args=["KS-02"]) in parent[: parent.index("</dd>")]
    )
    history = html[html.index("登记矿山计量网络") - 600 : html.index("登记矿山计量网络")]
    assert "KS-02" in history  # the history shows the main meter's code, not its database id
    main_page = client.get(reverse("instrument_detail", args=["KS-02"])).content.decode()
    sub_meters = main_page[main_page.index('id="sub-meters"') :]
    assert reverse("instrument_detail", args=["KS-03"]) in sub_meters[: sub_meters.index("</dd>")]


# --- uncertainty of a meter ---------------------------------------------------------------------------------


def test_a_meters_relative_uncertainty_is_u_over_k_of_its_certificate_else_mpe_over_root_3(
    org_a: Organization,
) -> None:
    meter = instrument(org_a, "KS-03")  # class 1.0
    assert instrument_u_rel(meter, None) == pytest.approx(0.01 / math.sqrt(3))  # 0.5774 %
    record = Calibration(instrument=meter, kind="calibration", date=date(2026, 1, 5), result="pass")
    record.extra = {"expanded_uncertainty_percent": 0.6, "coverage_factor": 2.0}
    assert instrument_u_rel(meter, record) == pytest.approx(0.003)  # 0.6 % / 2
    record.extra = {"expanded_uncertainty_percent": 0.9}  # k not stated: 2
    assert instrument_u_rel(meter, record) == pytest.approx(0.0045)
    meter.accuracy_class, meter.mpe_percent = "0.5S", None
    assert instrument_u_rel(meter, None) == pytest.approx(0.005 / math.sqrt(3))
    meter.accuracy_class, meter.mpe_percent = "", 2.0
    assert instrument_u_rel(meter, None) == pytest.approx(0.02 / math.sqrt(3))


def test_a_system_without_a_stated_class_combines_its_components(org_a: Organization) -> None:
    meter = instrument(org_a, "KS-03")
    meter.accuracy_class, meter.mpe_percent = "", None
    meter.save()
    for mpe in (0.3, 0.4):
        Component(instrument=meter, type="sensor", mpe_percent=mpe).save()
    meter = Instrument.objects.prefetch_related("component_set").get(pk=meter.pk)
    assert instrument_u_rel(meter, None) == pytest.approx(0.005 / math.sqrt(3))  # √(0.3² + 0.4²) = 0.5 %
    meter.accuracy_class = "Ⅲ"  # a weighing class has no relative MPE: no source
    assert instrument_u_rel(meter, None) is None


# --- the demo network through the service and the page ----------------------------------------------


def test_demo_network_is_significant_in_october_only_and_names_the_line_meter(org_a: Organization) -> None:
    load_network(org_a)
    report = year_balance(org_a, 2026)
    assert report.k == 2.0 and report.error == ""
    (network,) = report.networks
    assert network.main.code == "KS-02" and [s.code for s in network.subs] == ["KS-03", "KS-04"]
    assert network.quantity == "register_electricity" and network.unit == "MWh"
    assert network.main.points == ("P22.3",) and network.subs[1].points == ("P22.7",)
    by_month = {m.month.month: m for m in network.months}
    assert [m for m, row in by_month.items() if row.balance.significant] == [10]
    assert by_month[10].suspect is not None and by_month[10].suspect.code == "KS-02"
    assert by_month[8].balance.significant is False and by_month[9].balance.significant is False
    assert by_month[7].balance.not_judged == "no_total"  # no data before August

    # The same numbers by hand from the data ledger's monthly totals and the meters' classes
    book = ledger.year_ledger(org_a, 2026)
    totals = {p.code: p.months[9].total for p in book.points if p.quantity == "register_electricity"}
    main, crusher, lv = totals["P22.3"], totals["P22.7"], totals["P22.8"]
    assert main is not None and crusher is not None and lv is not None
    october = by_month[10].balance
    assert october.imbalance == pytest.approx(main - (crusher + lv))
    u = math.sqrt(
        (main * 0.01 / math.sqrt(3)) ** 2
        + (lv * 0.01 / math.sqrt(3)) ** 2
        + (crusher * 0.005 / math.sqrt(3)) ** 2
    )
    assert october.u95 == pytest.approx(2 * u)
    assert october.imbalance > october.u95  # ≈ 28 MWh against ≈ 12 MWh
    assert network.u_rel["KS-04"] == pytest.approx(0.005 / math.sqrt(3))


@pytest.mark.parametrize("reader", ["clerk_a", "verifier_a", "regulator_cq"])
def test_balance_page_for_every_reader_of_the_organization(
    client: Client, users: dict[str, Any], org_a: Organization, reader: str
) -> None:
    load_network(org_a)
    login(client, users[reader])
    html = page(client, reverse("readings_balance") + "?year=2026")
    assert "计量网络平衡" in html and 'id="network-KS-02-register_electricity"' in html
    october = html[html.index('data-month="2026-10"') :]
    october = october[: october.index("</tr>")]
    assert 'data-significant="1"' in october and "显著" in october and "KS-02" in october
    august = html[html.index('data-month="2026-08"') :]
    assert 'data-significant="0"' in august[: august.index("</tr>")]
    assert reverse("readings_balance") in client.get(reverse("readings_ledger")).content.decode()


def test_balance_page_in_english(client: Client, users: dict[str, Any], org_a: Organization) -> None:
    load_network(org_a)
    login(client, users["clerk_a"])
    html = page(english(client), reverse("readings_balance") + "?year=2026")
    assert "Metering-network balance" in html and "Most likely faulty meter" in html
    assert "Significant" in html and "Not significant" in html and "Expanded uncertainty U95" in html
    names = [
        i.name for i in Instrument.objects.filter(organization=org_a, code__in=["KS-02", "KS-03", "KS-04"])
    ]
    chinese = [label for label in labels(html, *names, org_a.name) if CJK.search(label)]
    assert not chinese


def test_page_without_networks_and_other_organizations_unseen(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    login(client, users["admin_b"])  # a member of B only: A's network is not B's
    load_network(org_a)
    html = client.get(reverse("readings_balance")).content.decode()
    assert 'id="no-networks"' in html and "KS-02" not in html
    client.logout()
    assert client.get(reverse("readings_balance")).status_code == 302  # to the login page


def test_a_cycle_in_the_register_is_shown_not_a_server_error(
    client: Client, users: dict[str, Any], org_a: Organization
) -> None:
    a, b = instrument(org_a, "KS-02"), instrument(org_a, "KS-03")
    # written past validation, as a bulk update or an old import could leave it
    Instrument.objects.filter(pk=a.pk).update(parent=b)
    Instrument.objects.filter(pk=b.pk).update(parent=a)
    login(client, users["clerk_a"])
    html = client.get(reverse("readings_balance")).content.decode()
    assert 'id="network-error"' in html and "KS-02 → KS-03 → KS-02" in html


# --- the API ---------------------------------------------------------------------------------------------


def test_api_gives_the_same_judgement_in_the_callers_scope(
    users: dict[str, Any], org_a: Organization, org_b: Organization
) -> None:
    from tests.web.api.conftest import ApiClient, key_for

    load_network(org_a)
    body = ApiClient(key_for(users["verifier_a"])).get(
        "/api/readings/balance", organization=org_a.pk, year=2026
    )
    assert body.status_code == 200, body.json()
    data = body.json()
    assert data["k"] == 2.0 and data["error"] == ""
    (network,) = data["networks"]
    assert network["main"]["code"] == "KS-02" and [s["code"] for s in network["subs"]] == ["KS-03", "KS-04"]
    october = next(m for m in network["months"] if m["month"] == "2026-10-01")
    assert october["significant"] is True and october["suspect"] == "KS-02"
    assert october["imbalance"] > october["u95"] > 0
    assert {s["meter"] for s in october["suspects"]} == {"KS-02", "KS-03", "KS-04"}
    july = next(m for m in network["months"] if m["month"] == "2026-07-01")
    assert july["significant"] is None and july["not_judged"] == "no_total"
    other = ApiClient(key_for(users["admin_b"])).get(
        "/api/readings/balance", organization=org_a.pk, year=2026
    )
    assert other.status_code == 404
    assert (
        ApiClient(key_for(users["admin_b"])).get("/api/readings/balance", organization=org_a.pk).status_code
        == 422
    )

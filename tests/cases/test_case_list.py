"""The case list answers summaries; the summary text and offences only on `GET /cases/{id}`."""

from mla.cases.schemas import CaseSummary
from tests.factories import World, unique


async def test_the_case_list_leaves_out_the_summary_and_offences_the_item_route_keeps(world: World) -> None:
    org = await world.organisation()
    body = {
        "reference": unique("CASE"),
        "title": "Fraud ring",
        "summary": "x" * 20_000,
        "offences": [{"description": f"Offence {n}", "max_penalty_years": 5} for n in range(50)],
    }
    created = await world.client.post("/api/v1/cases", json=body, headers=org.headers())

    [listed] = (await world.client.get("/api/v1/cases", headers=org.headers())).json()["items"]
    whole = (await world.client.get(f"/api/v1/cases/{created.json()['id']}", headers=org.headers())).json()

    assert set(listed) == set(CaseSummary.__struct_fields__)
    assert whole["summary"] == body["summary"] and len(whole["offences"]) == 50
    assert {name: whole[name] for name in listed} == listed

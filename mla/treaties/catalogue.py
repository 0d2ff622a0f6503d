"""The treaties our instruments rest on, and the states known to be bound by them (seeded once).

What could be checked against the texts shipped with the project (SPEC.md, DOMAIN.md) is only the
date from which Reg. (EU) 2023/1543 applies (18 August 2026). Everything else is seeded from the
Council of Europe's chart of signatures and ratifications as last read (a copy dated 3 December
2015, and later dates as recalled) and is marked `source_verified: false`: an officer confirms it
(the `instrument_in_force` check asks for an attestation) until an administrator checks the row
against the treaty office and marks it verified. States not listed count as not bound.

`seed_treaties` inserts what is missing and never overwrites a row, so administrators' edits stay.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from mla.clock import Clock
from mla.treaties import service
from mla.treaties.schemas import PartyInput, TreatyKind

BUDAPEST_CHART = (
    "Council of Europe Treaty Office, chart of signatures and ratifications of Treaty 185 "
    "(https://www.coe.int/en/web/conventions/full-list?module=signatures-by-treaty&treatynum=185)"
)
_BUDAPEST_2015 = f"{BUDAPEST_CHART}, status as of 03/12/2015 (stored copy read)"
_BUDAPEST_RECALLED = f"{BUDAPEST_CHART} (dates recalled, not read from a copy: check them)"
EU_REGULATION_SOURCE = (
    "Reg. (EU) 2023/1543 art 34: applies from 18 August 2026 (DOMAIN.md) in the Member States bound "
    "by it; Denmark does not take part (Protocol No 22) and Ireland notified its wish to take part "
    "(Protocol No 21) according to the Regulation's recitals, not checked against the text here"
)
EU_APPLIES_FROM = date(2026, 8, 18)
# Member States bound by Reg. (EU) 2023/1543: all but Denmark (unverified, see above).
EU_BOUND = (
    "AT BE BG CY CZ DE EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
).split()  # fmt: skip


@dataclass(frozen=True)
class TreatySeed:
    code: str
    title: str
    kind: TreatyKind
    instrument_codes: tuple[str, ...]
    source: str
    parties: tuple[tuple[str, PartyInput], ...] = ()


def _budapest(signed: str, ratified: str | None, in_force: str | None, source: str = _BUDAPEST_2015) -> PartyInput:
    def day(text: str | None) -> date | None:
        return None if text is None else date(*reversed([int(part) for part in text.split("/")]))

    return PartyInput(signed_on=day(signed), ratified_on=day(ratified), in_force_on=day(in_force), source=source)


_BUDAPEST_PARTIES = (
    ("AL", _budapest("23/11/2001", "20/06/2002", "01/07/2004")),
    ("AM", _budapest("23/11/2001", "12/10/2006", "01/02/2007")),
    ("AT", _budapest("23/11/2001", "13/06/2012", "01/10/2012")),
    ("AZ", _budapest("30/06/2008", "15/03/2010", "01/07/2010")),
    ("BE", _budapest("23/11/2001", "20/08/2012", "01/12/2012")),
    ("BA", _budapest("09/02/2005", "19/05/2006", "01/09/2006")),
    ("BG", _budapest("23/11/2001", "07/04/2005", "01/08/2005")),
    ("HR", _budapest("23/11/2001", "17/10/2002", "01/07/2004")),
    ("CY", _budapest("23/11/2001", "19/01/2005", "01/05/2005")),
    ("CZ", _budapest("09/02/2005", "22/08/2013", "01/12/2013")),
    ("DK", _budapest("22/04/2003", "21/06/2005", "01/10/2005")),
    ("EE", _budapest("23/11/2001", "12/05/2003", "01/07/2004")),
    ("FI", _budapest("23/11/2001", "24/05/2007", "01/09/2007")),
    ("FR", _budapest("23/11/2001", "10/01/2006", "01/05/2006")),
    ("GE", _budapest("01/04/2008", "06/06/2012", "01/10/2012")),
    ("DE", _budapest("23/11/2001", "09/03/2009", "01/07/2009")),
    ("IE", _budapest("28/02/2002", None, None, _BUDAPEST_RECALLED)),
    ("IT", _budapest("23/11/2001", "05/06/2008", "01/10/2008", _BUDAPEST_RECALLED)),
    ("NL", _budapest("23/11/2001", "16/11/2006", "01/03/2007", _BUDAPEST_RECALLED)),
    ("ES", _budapest("23/11/2001", "03/06/2010", "01/10/2010", _BUDAPEST_RECALLED)),
    ("PT", _budapest("23/11/2001", "24/03/2010", "01/07/2010", _BUDAPEST_RECALLED)),
    ("PL", _budapest("23/11/2001", "20/02/2015", "01/06/2015", _BUDAPEST_RECALLED)),
    ("GB", _budapest("23/11/2001", "25/05/2011", "01/09/2011", _BUDAPEST_RECALLED)),
    ("US", _budapest("23/11/2001", "29/09/2006", "01/01/2007", _BUDAPEST_RECALLED)),
    ("CA", _budapest("23/11/2001", "08/07/2015", "01/11/2015", _BUDAPEST_RECALLED)),
    ("JP", _budapest("23/11/2001", "03/07/2012", "01/11/2012", _BUDAPEST_RECALLED)),
)

TREATIES = (
    TreatySeed(
        "ets-185",
        "Council of Europe Convention on Cybercrime (Budapest, ETS No. 185)",
        TreatyKind.MULTILATERAL,
        ("budapest-25", "budapest-29", "budapest-30", "budapest-31", "budapest-33", "budapest-34"),
        BUDAPEST_CHART,
        _BUDAPEST_PARTIES,
    ),
    TreatySeed(
        "cets-224",
        "Second Additional Protocol to the Convention on Cybercrime (CETS No. 224)",
        TreatyKind.MULTILATERAL,
        ("2ap-6", "2ap-7", "2ap-8", "2ap-9", "2ap-10"),
        "Council of Europe Treaty Office, chart of signatures and ratifications of Treaty 224: no party "
        "is seeded (its entry into force could not be verified here); an administrator adds them",
    ),
    TreatySeed(
        "uncc",
        "United Nations Convention against Cybercrime (General Assembly resolution 79/243)",
        TreatyKind.MULTILATERAL,
        ("uncc-40", "uncc-42", "uncc-43", "uncc-44"),
        "United Nations Treaty Collection, status of the Convention: no party is seeded (adopted "
        "24 December 2024; its entry into force could not be verified here); an administrator adds them",
    ),
    TreatySeed(
        "eu-2023-1543",
        "Regulation (EU) 2023/1543 (European Production and Preservation Orders)",
        TreatyKind.EU_REGULATION,
        ("eu-epoc", "eu-epoc-pr"),
        EU_REGULATION_SOURCE,
        (
            *((country, PartyInput(in_force_on=EU_APPLIES_FROM, source=EU_REGULATION_SOURCE)) for country in EU_BOUND),
            ("DK", PartyInput(notes="Not bound by the Regulation (Protocol No 22).", source=EU_REGULATION_SOURCE)),
        ),
    ),
    TreatySeed(
        "bilateral",
        "Bilateral mutual legal assistance treaty (named in each request)",
        TreatyKind.BILATERAL,
        ("mlat",),
        "The treaty named in the request's `treaty_reference`; an officer confirms it is in force",
    ),
)


async def seed_treaties(session: AsyncSession, clock: Clock) -> int:
    """Insert every treaty and party row that is missing (one audit event); returns how many were new."""
    inserted: dict[str, int] = {}
    for seed in TREATIES:
        treaty, created = await service.ensure_treaty(
            session, clock, code=seed.code, title=seed.title, kind=seed.kind,
            instrument_codes=list(seed.instrument_codes), source=seed.source,
        )  # fmt: skip
        new_parties = [await service.ensure_party(session, clock, treaty, country, p) for country, p in seed.parties]
        if created or any(new_parties):
            inserted[seed.code] = int(created) + sum(new_parties)
    if inserted:
        await service.record_admin_event(session, clock, None, "seed_treaties", {"rows": inserted})
    return sum(inserted.values())

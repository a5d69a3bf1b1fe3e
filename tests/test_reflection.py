"""The weekly reflection (coach/services/programme/reflection.py, /reflection/<id>): which day it
comes, what the planner sends, the summary in the parent's own answers, the private answer, the
push it sends and every page that meets a delivery without a prompt."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest

from coach.models import CheckIn, Delivery, Family, utcnow
from coach.services.delivery.scheduling import plan_due_deliveries
from coach.services.delivery.sending import run_send_tick
from coach.services.families.checkins import local_today
from coach.services.programme.reflection import (
    build_reflection,
    is_reflection_day,
    summary,
)

from . import factories
from .conftest import Auth
from .delivery_helpers import NOW, make_due, subscribe
from .parent_helpers import ParentClient, make_delivery, make_prompt

REPAIR_ANSWERS = [{"label": "Yes, we had a cuddle after", "tried": "yes"},
                  {"label": "Not today", "tried": "not_yet"},
                  {"label": "It didn't come up", "tried": "no_chance"}]
RUPTURE_ANSWERS = [{"label": "It was a hard one", "tried": "yes", "hard": True},
                   {"label": "A small one", "tried": "yes"},
                   {"label": "It didn't come up", "tried": "no_chance"}]


# --- which day ------------------------------------------------------------------------------------

@pytest.mark.parametrize("enrolled, days, reflection_days", [
    # Daily, enrolled Monday 16 November: the programme week is Monday to Sunday.
    (date(2026, 11, 16), "0123456", {date(2026, 11, 22), date(2026, 11, 29)}),
    # Daily, enrolled on a Thursday: the week runs Thursday to Wednesday.
    (date(2026, 11, 19), "0123456", {date(2026, 11, 25), date(2026, 12, 2)}),
    # Mon/Wed/Fri, enrolled on a Tuesday: Wed, Fri, Mon are its days; Monday is the last.
    (date(2026, 11, 17), "024", {date(2026, 11, 23), date(2026, 11, 30)}),
    # Mon/Wed/Fri, enrolled on a Saturday: Mon, Wed, Fri; Friday is the last.
    (date(2026, 11, 14), "024", {date(2026, 11, 20), date(2026, 11, 27)}),
])
def test_the_reflection_day_is_the_last_prompt_day_of_the_programme_week(app, enrolled, days,
                                                                         reflection_days):
    family = factories.make_family(days_of_week=days,
                                   created_at=datetime.combine(enrolled, datetime.min.time()))
    found = {enrolled + timedelta(days=n) for n in range(14)
             if is_reflection_day(family, enrolled + timedelta(days=n))}
    assert found == {d for d in reflection_days if d < enrolled + timedelta(days=14)}


def test_no_weekday_chosen_means_no_reflection(app):
    family = factories.make_family(days_of_week="", created_at=datetime(2026, 11, 16))
    assert not any(is_reflection_day(family, date(2026, 11, 16) + timedelta(days=n)) for n in range(7))


# --- what the planner sends -----------------------------------------------------------------------

ENROLLED = datetime(2026, 11, 16)  # a Monday: Sunday 22 November ends the first programme week
SUNDAY = date(2026, 11, 22)


def planned_family(**fields) -> Family:
    family = factories.make_family(created_at=ENROLLED, next_due_at=datetime(2026, 11, 22), **fields)
    make_prompt("cues", moment="evening", age_min_months=0, age_max_months=60)
    return family


def check_in(family: Family, prompt, made: datetime, answer: int, felt: int | None = None,
             delivery: Delivery | None = None, tried: str = "yes") -> CheckIn:
    return CheckIn.create(id=uuid.uuid4(), family=family, user=family.user_id, prompt=prompt, delivery=delivery,
                          answer=answer, tried=tried, felt=felt, client_created_at=made,
                          received_at=made)


def test_the_last_day_of_a_week_with_check_ins_is_a_reflection(app):
    family = planned_family()
    prompt = make_prompt("cues")
    check_in(family, prompt, datetime(2026, 11, 19, 19, 0), answer=0)
    before = Family.get_by_id(family.id).recent_prompts

    assert plan_due_deliveries(now=datetime(2026, 11, 22, 9, 0)) == 1

    delivery = Delivery.get(Delivery.family == family.id)
    assert (delivery.local_date, delivery.kind, delivery.prompt, delivery.theme) == \
        (SUNDAY, "reflection", None, None)
    assert delivery.status == "pending" and datetime(2026, 11, 22, 18) <= delivery.due_at < datetime(2026, 11, 22, 20)
    assert Family.get_by_id(family.id).recent_prompts == before  # no prompt was sent


def test_a_week_with_nothing_to_look_back_on_gets_an_ordinary_prompt(app):
    family = planned_family()
    # Last week's check-in is not this week's: nothing to summarise.
    check_in(family, make_prompt("cues"), datetime(2026, 11, 15, 19, 0), answer=0)

    assert plan_due_deliveries(now=datetime(2026, 11, 22, 9, 0)) == 1

    delivery = Delivery.get(Delivery.family == family.id)
    assert delivery.kind == "prompt" and delivery.prompt is not None


def test_an_ordinary_day_stays_a_prompt_whatever_the_check_ins(app):
    family = planned_family()
    Family.update(next_due_at=datetime(2026, 11, 21)).where(Family.id == family.id).execute()
    check_in(family, make_prompt("cues"), datetime(2026, 11, 19, 19, 0), answer=0)
    plan_due_deliveries(now=datetime(2026, 11, 21, 9, 0))
    assert Delivery.get(Delivery.family == family.id).kind == "prompt"


# --- the summary ----------------------------------------------------------------------------------

def week_with_answers(**family_fields) -> tuple[Family, Delivery]:
    """A family whose programme week ends today, with a hard rupture, a repair tried and a "not yet"
    on three days of it, and today's reflection delivery."""
    family = factories.make_family(child_name="Sam", **family_fields)
    today = local_today(family)
    Family.update(created_at=datetime.combine(today - timedelta(days=6), datetime.min.time())).where(
        Family.id == family.id).execute()
    family = Family.get_by_id(family.id)
    rupture = make_prompt("rupture", title="A moment out of step", answers=RUPTURE_ANSWERS)
    repair = make_prompt("repair", title="Come back to {child} softly", answers=REPAIR_ANSWERS)
    cues = make_prompt("cues", title="Watch {child}'s hands")
    evening = datetime.combine(today, datetime.min.time()) + timedelta(hours=12)
    check_in(family, rupture, evening - timedelta(days=4), answer=0)
    check_in(family, repair, evening - timedelta(days=3), answer=0)
    check_in(family, cues, evening - timedelta(days=2), answer=2, tried="not_yet")
    check_in(family, cues, evening - timedelta(days=9), answer=0)  # last week: not in this one
    return family, make_delivery(family, kind="reflection")


def weekday(days_ago: int, family: Family) -> str:
    return (local_today(family) - timedelta(days=days_ago)).strftime("%A")


def test_the_summary_tells_the_week_in_the_parents_own_answers(app):
    family, delivery = week_with_answers()
    week = build_reflection(family, delivery, family.user)

    assert [m.answer for m in week.moments] == ["It was a hard one", "Yes, we had a cuddle after", "Not today"]
    text = " ".join(week.sentences)
    assert text.startswith("You checked in on 3 days this week, making room for Sam.")
    # The repair tried, named in the week: its day, its prompt and the parent's own answer.
    assert (f"On {weekday(3, family)} you came back together: “Come back to Sam softly”. "
            "You said “Yes, we had a cuddle after”. That is the repair that matters.") in text
    assert f"On {weekday(4, family)} a moment felt hard, and you said so: “It was a hard one”." in text
    assert "They will come round again" in text  # "not yet" is never a failure
    assert week.question == "What did you notice about Sam this week that you hadn't seen before?"
    assert week.place == "Week 1 · Watching cues"


def test_a_low_feeling_on_a_rupture_is_met_without_putting_words_in_the_parents_mouth(app):
    family, delivery = week_with_answers()
    rupture = make_prompt("rupture", title="Out of step at dinner", answers=RUPTURE_ANSWERS)
    made = datetime.combine(local_today(family), datetime.min.time()) + timedelta(hours=8)
    check_in(family, rupture, made, answer=1, felt=1)  # "A small one", but it felt far apart
    text = " ".join(build_reflection(family, delivery, family.user).sentences)
    assert f"On {weekday(0, family)} a moment felt hard. Noticing it is where coming back begins." in text


def test_a_quiet_week_is_met_kindly():
    assert summary([], "Sam") == ["This week was a quiet one here, and that's fine. Looking back is enough."]


# --- the page and the private answer --------------------------------------------------------------

def test_the_page_shows_the_week_and_saves_a_private_answer(app):
    worker = factories.make_user("worker")
    family, delivery = week_with_answers(worker=worker)
    parent = ParentClient(app, family)

    page = parent.get(f"/reflection/{delivery.id}").get_data(as_text=True)
    assert "Your week with Sam" in page and "Come back to Sam softly" in page
    assert "“Yes, we had a cuddle after”" in page
    assert "What did you notice about Sam this week" in page
    assert Delivery.get_by_id(delivery.id).opened_at is not None

    response = parent.form(f"/reflection/{delivery.id}", {"note": "  Sam reached for my face. "})
    assert response.status_code == 302
    saved = parent.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your answer is saved in your journal." in saved and "Sam reached for my face." in saved
    (answer,) = CheckIn.select().where(CheckIn.delivery == delivery)
    assert (answer.tried, answer.note, answer.shared_with_worker, answer.prompt) == \
        ("reflected", "Sam reached for my face.", False, None)

    # Saving again changes the one answer.
    parent.form(f"/reflection/{delivery.id}", {"note": "Sam reached for my face twice."})
    assert [c.note for c in CheckIn.select().where(CheckIn.delivery == delivery)] == \
        ["Sam reached for my face twice."]

    journal = parent.get("/journal").get_data(as_text=True)
    assert "Sam reached for my face twice." in journal
    assert "What did you notice about Sam this week that you hadn&#39;t seen before?" in journal
    assert f'href="/reflection/{delivery.id}"' in journal  # the week's reflection is linked
    assert parent.get("/").get_data(as_text=True).count(f'href="/reflection/{delivery.id}"') == 1

    # Private from the worker …
    staff = app.test_client()
    Auth(staff).login(worker)
    worker_page = staff.get(f"/worker/families/{family.id}").get_data(as_text=True)
    assert "Sam reached for my face" not in worker_page and "Answered the weekly reflection" in worker_page
    # … until the parent ticks "share".
    parent.form(f"/reflection/{delivery.id}", {"note": "Sam reached for my face twice.",
                                               "shared_with_worker": "on"})
    assert "Sam reached for my face twice." in staff.get(f"/worker/families/{family.id}").get_data(as_text=True)


@pytest.mark.parametrize("note, message", [
    ("", "Write a few words first, or come back to this later."),
    ("   ", "Write a few words first, or come back to this later."),
    ("x" * 501, "Keep your answer to 500 characters or fewer (it has 501)."),
])
def test_a_bad_answer_is_explained_and_nothing_is_saved(app, note, message):
    family, delivery = week_with_answers()
    response = ParentClient(app, family).form(f"/reflection/{delivery.id}", {"note": note})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert not CheckIn.select().where(CheckIn.delivery == delivery).exists()


def test_no_csrf_token_saves_nothing(app):
    family, delivery = week_with_answers()
    parent = ParentClient(app, family)
    response = parent.client.post(f"/reflection/{delivery.id}", data={"note": "Hello"})
    assert response.status_code == 400
    assert not CheckIn.select().where(CheckIn.delivery == delivery).exists()


def test_only_your_own_reflection_opens(app):
    family, delivery = week_with_answers()
    other = ParentClient(app, factories.make_family())
    assert other.get(f"/reflection/{delivery.id}").status_code == 404
    assert other.form(f"/reflection/{delivery.id}", {"note": "Hello"}).status_code == 404
    prompt_day = make_delivery(family, local_date=local_today(family) - timedelta(days=1))
    assert ParentClient(app, family).get(f"/reflection/{prompt_day.id}").status_code == 404
    assert not CheckIn.select().where(CheckIn.delivery == delivery).exists()


def test_prompt_paths_meet_a_reflection_kindly(app):
    family, delivery = week_with_answers()
    parent = ParentClient(app, family)
    # The check-in link of the day leads to the reflection.
    response = parent.get(f"/checkin/{delivery.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reflection/{delivery.id}")
    # Today's delivery in the API says what it is and where it opens.
    today = parent.api("GET", "/api/today").get_json()["delivery"]
    assert (today["kind"], today["url"], today["prompt"]) == ("reflection", f"/reflection/{delivery.id}", None)
    # A reflection takes no "I tried it".
    body = {"id": str(uuid.uuid4()), "delivery_id": delivery.id, "tried": "yes",
            "client_created_at": utcnow().isoformat()}
    refused = parent.api("POST", "/api/checkins", json=body)
    assert refused.status_code == 409 and refused.get_json()["error"] == "reflection"
    assert not CheckIn.select().where(CheckIn.delivery == delivery).exists()
    # The export names it.
    export = parent.api("GET", "/api/me/export").get_json()
    assert {"Your weekly reflection"} <= {p["prompt"] for p in export["prompts_received"]}


# --- the push -------------------------------------------------------------------------------------

@pytest.mark.parametrize("discreet", [False, True])
def test_the_reflection_push_opens_the_reflection(push_app, ps, discreet):
    family = factories.make_family(child_name="Sam", discreet=discreet)
    delivery = make_due(family, prompt=None, prompt_version=None, theme=None, kind="reflection")
    subscribe(ps, family.user)

    assert run_send_tick(NOW)["sent"] == 1

    data = ps.wait_for(1)[0].json()
    if discreet:
        assert (data["title"], data["body"]) == ("Attune", "A moment for today is ready")
    else:
        assert (data["title"], data["body"]) == (
            "Your week with Sam", "A look back at your week, in your own answers, and one question for you.")
    assert data["url"] == f"/reflection/{delivery.id}"
    assert data["notification"]["navigate"] == f"http://localhost/reflection/{delivery.id}"
    assert data["actions"] == [{"action": "later", "title": "Later"}]  # nothing to "try"
    assert data["delivery_id"] == delivery.id and data["ack_token"]
    refused = push_app.test_client().post(f"/api/deliveries/{delivery.id}/ack",
                                          json={"ack_token": data["ack_token"]})
    assert refused.status_code == 409
    assert not CheckIn.select().where(CheckIn.delivery == delivery).exists()

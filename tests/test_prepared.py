"""Queries built once (coach/prepared.py) read exactly what the ordinary peewee query reads, on
both stores; values that change the SQL itself are built the ordinary way; and an argument a field
would convert is refused when the statement is built, not silently bound wrong."""
from __future__ import annotations

from datetime import timedelta

import pytest
from peewee import JOIN

from coach.models import CheckIn, Delivery, Family, Prompt, SupportRequest, SupportResource, utcnow
from coach.prepared import Prepared
from coach.services.families import checkins, resources, support

from . import factories
from .parent_helpers import make_delivery, make_prompt


def test_the_hot_reads_match_the_ordinary_queries(app):
    family = factories.make_family(country="GB")
    other = factories.make_family()
    delivery = make_delivery(family, prompt=make_prompt(title="Wait for {child}"))
    without_prompt = make_delivery(family, local_date=delivery.local_date - timedelta(days=1))
    Delivery.update(prompt=None).where(Delivery.id == without_prompt.id).execute()  # a prompt since deleted
    make_delivery(other, local_date=delivery.local_date)

    assert checkins.family_for(family.user).id == family.id
    found = checkins.own_delivery(family, delivery.id)
    ordinary = (Delivery.select(Delivery, Prompt).join(Prompt, JOIN.LEFT_OUTER)
                .where(Delivery.id == delivery.id).get())
    assert found.__data__ == ordinary.__data__ and found.prompt.__data__ == ordinary.prompt.__data__
    assert checkins.own_delivery(family, without_prompt.id).prompt is None
    with pytest.raises(Exception) as refused:  # another family's delivery: 404, with no hint it exists
        checkins.own_delivery(other, delivery.id)
    assert getattr(refused.value, "status", None) == 404

    assert not checkins.has_checkin(delivery, family.user)
    assert checkins.mark_opened(delivery) and not checkins.mark_opened(delivery)
    assert Delivery.get_by_id(delivery.id).opened_at is not None
    data = checkins.parse_checkin(factories_body(delivery.id))
    stored, created = checkins.record_checkin(family, data, family.user)
    assert created and checkins.has_checkin(delivery, family.user)
    assert checkins.record_checkin(family, data, family.user) == (stored, False)  # the idempotency read
    assert CheckIn.select().where(CheckIn.id == data.id).count() == 1

    for position, (kind, active) in enumerate([("parenting", True), ("emergency", True), ("crisis", False)]):
        SupportResource.create(name=f"{kind} line", country="GB", kind=kind, position=position, active=active)
    SupportResource.create(name="Everywhere", country="*", kind="crisis")
    ordinary_gb = [r.id for r in resources.ordered(include_hidden=False, country="GB")]
    assert sorted(r.id for r in resources.for_country("GB")[1]) == sorted(ordinary_gb)
    assert [r.kind for r in resources.for_country("GB")[1]] == ["emergency", "parenting"]
    assert [r.name for r in resources.for_country("ZZ")[1]] == ["Everywhere"]

    SupportRequest.create(family=family, user=family.user, source="checkin", created_at=utcnow(),
                          respond_by=utcnow() + timedelta(hours=24))
    assert [r["status"] for r in support.request_status(family, family.user)] == ["open"]
    assert len(support.request_status(family)) == 1 and support.request_status(other) == []


def factories_body(delivery_id: int) -> dict:
    from .parent_helpers import checkin_body

    return checkin_body(delivery_id=delivery_id)


def test_none_is_built_the_ordinary_way_and_lists_are_refused(app):
    family = factories.make_family()
    by_worker = Prepared(lambda worker: Family.select().where(Family.worker == worker), Family.worker)
    assert [f.id for f in by_worker.rows(None)] == [family.id]  # IS NULL, not "= NULL"
    by_ids = Prepared(lambda ids: Family.select().where(Family.id.in_(ids)), Family.id)
    with pytest.raises(TypeError, match="single values"):
        by_ids.rows([family.id, 10**9])


def test_an_argument_a_field_converts_is_refused_when_built(app):
    factories.make_family()
    by_flag = Prepared(lambda flag: Family.select().where(Family.discreet == flag), Family.discreet)
    with pytest.raises(TypeError, match="converted"):
        by_flag.rows(True)

"""A Spanish-speaking parent in real Chromium at 390×844 (issue 15): a Spanish browser opens the
invite, joins in Spanish, turns reminders on, gets a real push, checks in and reads the journal —
every page ``<html lang="es">``, the scripts' own sentences in Spanish too."""
from __future__ import annotations

import re

import pytest

from coach.models import CheckIn, PushSubscription
from coach.services.people.invites import create_invite
from tests import factories

from .conftest import (
    allow_notifications,
    click_notification,
    deliver_push,
    new_phone,
    plan_and_send,
    shown_notifications,
    wait_until,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def spanish_phone(browser, live, device):
    """A phone whose browser asks for Spanish (Accept-Language: es-ES) in Madrid."""
    context = new_phone(browser, live, device, locale="es-ES", zone="Europe/Madrid")
    yield context
    context.close()


def lang(page) -> str:
    return page.evaluate("document.documentElement.lang")


def test_spanish_invite_push_checkin_and_journal(spanish_phone, live, push_service, device):
    page = spanish_phone.new_page()
    with live.context():
        _invite, token = create_invite(factories.make_user("worker"))
    page.goto(f"/join/{token}")
    assert lang(page) == "es"
    page.get_by_role("heading", name="Te damos la bienvenida a Attune").wait_for()
    assert page.get_by_label("Idioma").input_value() == "es"  # from the browser, changeable
    page.get_by_label("Tu nombre").fill("Lucía")
    page.get_by_label("Correo electrónico").fill(f"lucia-{token[:8].lower()}@example.org")
    page.get_by_label("Elige una contraseña").fill(factories.PASSWORD)
    page.get_by_label("Nombre de tu hijo o hija").fill("Mateo")
    page.get_by_label("Mes en que nació tu hijo o hija").fill("2026-03")
    page.get_by_label("Hora más temprana para tu idea").fill("00:00")
    page.get_by_label("Hora más tarde para tu idea").fill("23:59")
    assert page.get_by_label("Zona horaria").input_value() == "Europe/Madrid"
    page.get_by_role("button", name="Unirme y empezar").click()
    page.wait_for_url(re.compile(r"/welcome$"))
    assert lang(page) == "es"
    page.get_by_text("Te damos la bienvenida, Lucía").wait_for()

    card = page.locator("#notify-card[data-ready]")
    card.get_by_text("Una pequeña idea al día").wait_for()
    allow_notifications(spanish_phone, live)
    card.get_by_role("switch", name="Avisos en este teléfono").click()
    page.get_by_text("Los avisos están activados.").wait_for()  # static/js/notifications.js, in Spanish
    with live.context():
        family = PushSubscription.get(PushSubscription.endpoint == device.endpoint).user.families[0]
        assert family.user.language == "es"

    delivery, payload = plan_and_send(live, push_service, family)
    assert payload["lang"] == "es" and [a["title"] for a in payload["actions"]] == ["Lo probé", "Más tarde"]
    deliver_push(page, live, payload)
    shown = wait_until(lambda: shown_notifications(page))
    click_notification(page, shown[0]["tag"])
    page.wait_for_url(f"**/checkin/{delivery.id}")
    assert lang(page) == "es"
    page.get_by_text("Con un toque se guarda").wait_for()
    page.locator(".answer-btn").first.click()
    page.locator("#checkin-saved").get_by_text("Guardado.").wait_for()
    page.get_by_text("Muy cerca", exact=True).click()
    page.get_by_label("Una nota para ti").fill("Me miró y sonrió.")
    page.get_by_role("button", name="Guardar", exact=True).click()
    page.get_by_text("Añadido a tu registro.").wait_for()
    with live.context():
        assert CheckIn.select().where(CheckIn.delivery == delivery.id, CheckIn.felt == 5).count() == 1

    page.get_by_role("link", name="Diario", exact=True).click()
    page.get_by_role("heading", name="Tu diario").wait_for()
    assert lang(page) == "es"
    page.get_by_text("Me miró y sonrió.").wait_for()
    assert page.get_by_text("Muy cerca").first.is_visible() and page.get_by_text("Esta semana").is_visible()

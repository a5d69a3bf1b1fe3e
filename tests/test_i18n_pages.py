"""Attune in Spanish (issue 15, DESIGN "Reach → Languages"): a Spanish-speaking parent's pages,
emails and pushes are in Spanish with ``<html lang="es">``; a visitor who isn't signed in follows
the browser; each person chooses their own language at join and in settings."""
from __future__ import annotations

import io
import re
from datetime import timedelta

from babel.dates import format_date

from coach.models import MailMessage, User
from coach.services.delivery.push import build_payload, build_test_payload
from coach.services.people.invites import create_invite

from . import factories
from .parent_helpers import login, make_delivery

SPANISH = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def spanish_parent(**fields):
    family = factories.make_family(**fields)
    User.update(language="es").where(User.id == family.user_id).execute()
    family.user.language = "es"
    return family


def test_a_spanish_parents_pages_are_in_spanish(client):
    family = spanish_parent(child_name="Sofía")
    delivery = make_delivery(family)
    login(client, family.user)
    pages = {
        "/": ["Hola,", "Contar cómo fue", "Avisos en este teléfono", "Semana 1 · Mirar las señales"],
        f"/checkin/{delivery.id}": ["¿Qué tan cerca te sentiste?", "Una nota para ti", "Muy cerca"],
        "/journal": ["Tu diario", "Los últimos 30 días", "Cinco semanas", "Fijarse en las señales"],
        "/settings": ["Ajustes", "Cuándo llegan las ideas", "Guardar ajustes", "Idioma"],
        "/help": ["Pedir ayuda", "¿Tú y tu hijo o hija están a salvo ahora?"],
    }
    for path, words in pages.items():
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert html_lang(html) == "es", path
        for word in words:
            assert word in html, (path, word)
        # The English it replaced is gone (a sample of each page's own words).
        for english in ("Settings</a>", "Get help</a>", "Skip to content"):
            assert english not in html, (path, english)
    # Countries are named in Spanish too (Babel's names), in Spanish alphabetical order.
    countries = client.get("/settings/country").get_data(as_text=True)
    assert "<option value=GB>Reino Unido" in countries and "United Kingdom" not in countries
    assert countries.index(">Alemania") < countries.index(">Österreich") if ">Österreich" in countries else True
    # The page carries the scripts' words in Spanish (static/js/notifications.js reads them).
    assert '"Turn on reminders": "Activar avisos"' in client.get("/").get_data(as_text=True)


def test_dates_on_the_journal_follow_the_language(client):
    family = spanish_parent()
    delivery = make_delivery(family)
    token = login(client, family.user)
    saved = client.post(f"/checkin/{delivery.id}", data={"csrf_token": token, "answer": "0",
                                                         "id": "0f8fad5b-d9cb-469f-a165-70867728950e"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    html = client.get("/journal").get_data(as_text=True)
    day = delivery.local_date
    spanish_months = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
                      "septiembre", "octubre", "noviembre", "diciembre")
    # The calendar's sentence for today ("miércoles <b>2</b> de diciembre (hoy)") and the entry's date.
    assert f"<b>{day.day}</b> de {spanish_months[day.month - 1]} (hoy)" in html
    assert f'datetime="{day.isoformat()}">' in html and f" {day.day} {spanish_months[day.month - 1][:3]}</time>" in html
    assert "Esta semana" in html and "This week" not in html


def test_an_english_parent_keeps_english_and_no_word_block(client):
    family = factories.make_family()
    login(client, family.user)
    html = client.get("/", headers=SPANISH).get_data(as_text=True)  # their own choice wins
    assert html_lang(html) == "en" and "Reminders on this phone" in html
    assert 'id="attune-words"' not in html


def test_anonymous_visitors_follow_the_browser(client):
    spanish = client.get("/login", headers=SPANISH).get_data(as_text=True)
    assert html_lang(spanish) == "es"
    assert "Entrar" in spanish and "¿Olvidaste tu contraseña?" in spanish and "Correo electrónico" in spanish
    english = client.get("/login", headers={"Accept-Language": "fr, en;q=0.5"}).get_data(as_text=True)
    assert html_lang(english) == "en" and "Forgot your password?" in english
    neither = client.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert html_lang(neither) == "en"
    manifest = client.get("/manifest.webmanifest", headers=SPANISH).get_json()
    assert manifest["lang"] == "es" and manifest["description"].startswith("Un pequeño momento")
    offline = client.get("/offline", headers=SPANISH).get_data(as_text=True)
    assert html_lang(offline) == "es" and "No tienes conexión" in offline


def test_form_errors_and_json_errors_are_in_spanish(client):
    family = spanish_parent()
    token = login(client, family.user)
    response = client.patch("/api/me/settings", json={"window_start": "7pm", "language": "fr"},
                            headers={"X-CSRFToken": token})
    assert response.status_code == 422
    body = response.get_json()
    assert body["message"] == "Revisa algunos de los ajustes."
    assert body["fields"]["window_start"] == "Usa una hora como 18:30."
    assert "English (en)" in body["fields"]["language"] and "Español (es)" in body["fields"]["language"]
    assert User.get_by_id(family.user_id).language == "es"  # nothing half-written
    phone = client.patch("/api/me/settings", json={"phone": "12"}, headers={"X-CSRFToken": token})
    assert phone.get_json()["fields"]["phone"].startswith("Empieza el número con + y el código del país")
    assert client.get("/api/nothing-here").get_json()["message"] == "No encontramos esa página."
    page = client.get("/checkin/999999").get_data(as_text=True)
    assert "No encontramos esa idea entre las tuyas." in page and "No encontramos eso" in page


def test_language_is_changed_in_settings_and_the_api(client):
    family = factories.make_family()
    token = login(client, family.user)
    response = client.patch("/api/me/settings", json={"language": "es"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.get_json()["settings"]["language"] == "es"
    assert html_lang(client.get("/settings").get_data(as_text=True)) == "es"
    settings = client.get("/settings").get_data(as_text=True)
    assert re.search(r'<input checked id="language-1" name="language" type="radio" value="es">', settings)
    form = {"csrf_token": token, "window_start": family.window_start, "window_end": family.window_end,
            "timezone": family.timezone, "days": "daily", "language": "en"}
    saved = client.post("/settings", data=form, follow_redirects=True).get_data(as_text=True)
    assert html_lang(saved) == "en" and "Your settings are saved." in saved  # the flash in the new language
    assert User.get_by_id(family.user_id).language == "en"
    bad = client.post("/settings", data=form | {"language": "xx"})
    assert bad.status_code == 422 and "Choose a language Attune speaks" in bad.get_data(as_text=True)


def test_join_defaults_to_the_browsers_language_and_keeps_the_choice(client):
    _invite, token = create_invite(factories.make_user("worker"))
    page = client.get(f"/join/{token}", headers=SPANISH, follow_redirects=True).get_data(as_text=True)
    assert html_lang(page) == "es" and "Te damos la bienvenida a Attune" in page
    assert re.search(r'<option selected value="es">Español|<option value="es" selected>Español', page)
    token = factories.extract_csrf(page)
    joined = client.post("/join", headers=SPANISH, data={
        "csrf_token": token, "language": "es", "display_name": "Ana", "email": "ana@example.org",
        "password": "a long password", "child_birth_month": "2025-03", "timezone": "Europe/Madrid",
        "window_start": "18:00", "window_end": "20:00"}, follow_redirects=True)
    assert joined.status_code == 200
    assert "Te damos la bienvenida, Ana" in joined.get_data(as_text=True)
    assert User.get(User.email == "ana@example.org").language == "es"





def test_the_reset_email_is_in_the_account_holders_language(client):
    family = spanish_parent(display_name="Ana")
    token = factories.extract_csrf(client.get("/forgot").get_data(as_text=True))
    client.post("/forgot", data={"csrf_token": token, "email": family.user.email})  # asked in English
    mail = MailMessage.get(MailMessage.to_address == family.user.email)
    assert mail.subject == "Cambia tu contraseña de Attune"
    assert "Para elegir una contraseña nueva, abre este enlace:" in mail.body
    assert "Funciona una vez, durante 48 horas." in mail.body and "password" not in mail.body.lower()


def test_push_payloads_use_the_recipients_language(app):
    family = spanish_parent(discreet=True)
    payload = build_payload(make_delivery(family))
    assert payload["body"] == "Hay un momento para hoy" and payload["lang"] == "es"
    assert [a["title"] for a in payload["actions"]] == ["Lo probé", "Más tarde"]
    english = build_payload(make_delivery(factories.make_family(discreet=True)))
    assert english["body"] == "A moment for today is ready" and english["lang"] == "en"
    assert build_test_payload("es")["title"] == "Aviso de prueba de Attune"


def test_the_service_worker_carries_spanish_words(client):
    source = client.get("/sw.js").get_data(as_text=True)
    assert '"Saved to your journal. Well done for trying it.": "Guardado en tu diario. Muy bien por probarlo."' in source
    assert "__WORDS__" not in source


def test_the_worker_sees_each_familys_language_in_their_own(client, auth):
    worker = factories.make_user("worker")
    spanish = spanish_parent(worker=worker, display_name="Ana")
    factories.make_family(worker=worker, display_name="Bea")
    auth.login(worker)
    caseload = client.get("/worker/").get_data(as_text=True)
    assert html_lang(caseload) == "en"  # the worker's own language, not their families'
    assert caseload.count('<span class="language">Spanish</span>') == 1  # Bea's English goes unsaid
    family_page = client.get(f"/worker/families/{spanish.id}").get_data(as_text=True)
    assert '<span class="language">speaks Spanish</span>' in family_page


def test_a_worker_chooses_their_own_language(client, auth):
    worker = factories.make_user("worker")
    family = spanish_parent(worker=worker)
    auth.login(worker)
    token = factories.extract_csrf(client.get("/worker/settings").get_data(as_text=True))
    saved = client.post("/worker/settings", data={"csrf_token": token, "timezone": "", "language": "es"})
    assert saved.status_code == 302
    assert User.get_by_id(worker.id).language == "es" and User.get_by_id(family.user_id).language == "es"
    assert html_lang(client.get("/worker/settings").get_data(as_text=True)) == "es"
    bad = client.post("/worker/settings", data={"csrf_token": token, "timezone": "", "language": "fr"})
    assert bad.status_code == 422 and "Elige un idioma que Attune hable" in bad.get_data(as_text=True)
    client.post("/worker/settings", data={"csrf_token": token, "timezone": "", "language": "en"})
    assert User.get_by_id(worker.id).language == "en" and User.get_by_id(family.user_id).language == "es"


def test_a_spanish_worker_reads_the_caseload_and_family_pages_in_spanish(client, auth):
    worker = factories.make_user("worker")
    User.update(language="es").where(User.id == worker.id).execute()
    family = factories.make_family(worker=worker, display_name="Ana")
    User.update(phone="+34600111222").where(User.id == family.user_id).execute()  # an English parent
    auth.login(worker)
    caseload = client.get("/worker/").get_data(as_text=True)
    assert html_lang(caseload) == "es"
    for words in ("<h1>Tus familias</h1>", "Invitar a una familia", "Último contacto", "Buscar por nombre", "Se unió hoy"):
        assert words in caseload, words
    assert "Your families" not in caseload and "Last contact" not in caseload
    token = factories.extract_csrf(caseload)
    logged = client.post(f"/worker/families/{family.id}/contacts", data={
        "csrf_token": token, "kind": "call", "outcome": "no_answer", "note": "", "next_step_on": ""})
    assert logged.status_code == 302
    page = client.get(f"/worker/families/{family.id}").get_data(as_text=True)
    assert html_lang(page) == "es"
    for words in ("Peticiones de apoyo", "Historial de contactos", "Últimos 28 días", "Cronología",
                  "Guardado: llamada · no contestó.", "<strong>Llamada · No contestó</strong>"):
        assert words in page, words
    assert "Support requests" not in page and "Timeline" not in page
    assert "body=Hi%20Ana" in page
    assert re.search(r"<title>[a-zé]{3} \d+ [a-z]{3}: sin idea</title>", page)  # the strip's days  # the suggested text is in the parent's language, not the worker's
    # The CSV stays in English whatever the reader's language: scripts key on its words.
    assert "Phone call · No answer" in client.get("/worker/export.csv").get_data(as_text=True)


def test_an_english_worker_keeps_english_staff_pages(client, auth):
    worker = factories.make_user("worker")
    family = factories.make_family(worker=worker, display_name="Bea")
    auth.login(worker)
    caseload = client.get("/worker/").get_data(as_text=True)
    assert html_lang(caseload) == "en" and "<h1>Your families</h1>" in caseload and "Last contact" in caseload
    User.update(phone="+34600111222").where(User.id == family.user_id).execute()
    spanish = spanish_parent(worker=worker, display_name="Bea")
    User.update(phone="+34600111223").where(User.id == spanish.user_id).execute()
    page = client.get(f"/worker/families/{family.id}").get_data(as_text=True)
    assert "Support requests" in page and "Timeline" in page and "Cronología" not in page
    assert "body=Hola%2C%20Bea" in client.get(f"/worker/families/{spanish.id}").get_data(as_text=True)


def test_a_spanish_parents_weekly_reflection_is_in_spanish(app):
    from coach.services.families.checkins import local_today

    from .parent_helpers import ParentClient
    from .test_reflection import week_with_answers

    family, delivery = week_with_answers()
    User.update(language="es").where(User.id == family.user_id).execute()
    family = type(family).get_by_id(family.id)
    parent = ParentClient(app, family)
    page = parent.get(f"/reflection/{delivery.id}").get_data(as_text=True)
    day = local_today(family) - timedelta(days=3)
    spanish_day = format_date(day, "EEEE", locale="es")
    for words in ("Tu semana con Sam", "Semana 1 · Mirar las señales", "Mirando atrás",
                  "Contaste cómo fue 3 días esta semana, haciendo espacio para Sam.",
                  f"El {spanish_day} volvieron a encontrarse: “Come back to Sam softly”.",
                  "Volverán a llegar", "Una pregunta para ti",
                  "¿Qué notaste de Sam esta semana que no habías visto antes?",
                  f"{spanish_day.capitalize()} · Come back to Sam softly",
                  "Compartir esta respuesta con mi acompañante familiar"):
        assert words in page, words
    for english in ("Your week with", "Looking back", "You checked in", "One question for you",
                    day.strftime("%A")):
        assert english not in page, english
    problem = parent.form(f"/reflection/{delivery.id}", {"note": " "})
    assert problem.status_code == 422
    assert "Escribe unas palabras primero, o vuelve a esto más tarde." in problem.get_data(as_text=True)
    # Its push is written in the family's language too (the send tick is outside any request).
    payload = build_payload(delivery)
    assert (payload["title"], payload["lang"]) == ("Tu semana con Sam", "es")
    assert payload["body"].startswith("Una mirada a tu semana")
    from coach.services.delivery.texts import prompt_text

    sms = prompt_text(type(delivery).get_by_id(delivery.id), User.get_by_id(family.user_id))
    assert sms.startswith("Attune: Tu semana con Sam\nUna mirada a tu semana") and "Your week" not in sms


def test_a_spanish_parents_household_page_is_in_spanish(app):
    from .parent_helpers import ParentClient

    family = spanish_parent(child_name="Sofía")
    parent = ParentClient(app, family)
    page = parent.get("/settings/household").get_data(as_text=True)
    assert html_lang(page) == "es"
    for words in ("Tu hogar", "Quienes cuidan a Sofía", "(tú)", "Invitar a otra persona que cuida"):
        assert words in page, words
    assert "Your household" not in page and "Invite another caregiver" not in page
    made = parent.form("/settings/household").get_data(as_text=True)
    assert "Tu enlace de invitación" in made and "Escanea para unirte" in made
    assert re.search(r"vence el \d{1,2} de [a-z]+\.", made) and "expires on" not in made
    for _ in range(3):
        factories.add_caregiver(family)
    full = parent.api("POST", "/api/household/invites")
    assert full.status_code == 409
    assert full.get_json()["message"].startswith("Un hogar puede tener hasta 4 personas que cuidan")


def test_a_spanish_admin_reads_the_overview_and_library_in_spanish(client, auth):
    admin = factories.make_user("admin")
    User.update(language="es").where(User.id == admin.id).execute()
    auth.login(admin)
    overview = client.get("/admin/").get_data(as_text=True)
    assert html_lang(overview) == "es"
    for words in ("<h1>Resumen de administración</h1>", "Biblioteca de ideas", "Ideas de los últimos 7 días",
                  "Acompañantes familiares", "Registro de auditoría"):
        assert words in overview, words
    assert "Admin overview" not in overview and "Prompts in the last 7 days" not in overview
    library = client.get("/admin/prompts").get_data(as_text=True)
    assert html_lang(library) == "es"
    for words in ("<h1>Biblioteca de ideas</h1>", "Cobertura", "Líneas", "Momentos", "Nueva idea", "Exportar JSON",
                  "Todos los temas", "Importar ideas", "Publicada"):
        assert words in library, words
    assert "Prompt library</h1>" not in library and "New prompt" not in library
    # The audit log's filter problems are in the reader's words too.
    log = client.get("/admin/audit?from=yesterday").get_data(as_text=True)
    assert "La fecha “desde” “yesterday” no es una fecha como 2026-05-31" in log
    # A bad import: the page lists the problems in Spanish, the JSON reply stays English for scripts.
    bad = b'[{"title": "Hi", "skill": "Not A Tag"}]'
    token = factories.extract_csrf(overview)
    page = client.post("/admin/prompts/import", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(bad), "p.json")}).get_data(as_text=True)
    assert "El archivo no se importó" in page and "Idea 1 (“Hi”): la habilidad debe ser" in page
    reply = client.post("/admin/prompts/import", content_type="multipart/form-data",
                        headers={"Accept": "application/json"},
                        data={"csrf_token": token, "file": (io.BytesIO(bad), "p.json")}).get_json()
    assert reply["message"].startswith("The file wasn't imported")
    assert "Prompt 1 (“Hi”): skill must be" in " ".join(reply["problems"])


def test_an_english_admin_keeps_english_admin_pages(client, auth):
    admin = factories.make_user("admin")
    auth.login(admin)
    overview = client.get("/admin/").get_data(as_text=True)
    assert html_lang(overview) == "en" and "<h1>Admin overview</h1>" in overview
    library = client.get("/admin/prompts").get_data(as_text=True)
    assert "<h1>Prompt library</h1>" in library and "New prompt" in library and "Biblioteca" not in library

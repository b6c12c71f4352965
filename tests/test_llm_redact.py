"""Redaction of a real mail: every kind of personal data is replaced by a placeholder of its kind, restored
exactly, and never sent in clear, neither to the chat model nor to a remote embedding endpoint."""

from __future__ import annotations

import pytest
from llm_server import FakeLLMServer, Reply

from coach.llm.redact import redact

CASES = [
    # (text, private values that must not stay, kind of placeholder expected)
    ("Sehr geehrte Frau von der Heide, danke.", ["Heide"], "NAME"),
    ("Ich habe gestern mit Jan-Hendrik Oßwald gesprochen.", ["Jan-Hendrik", "Oßwald"], "NAME"),
    ("Herr Özdemir meldet sich morgen.", ["Özdemir"], "NAME"),
    ("Wie Frau Dr. Müller-Lüdenscheidt schon sagte.", ["Müller-Lüdenscheidt"], "NAME"),
    ("I spoke with Ms O'Brien and Mr. Smith today.", ["O'Brien", "Smith"], "NAME"),
    ("Mein Vater Klaus Berger ist letzte Woche verstorben.", ["Klaus", "Berger"], "NAME"),
    ("Our CEO Dana Whitfield decided to stop all projects.", ["Dana", "Whitfield"], "NAME"),
    ("Die Müller Bau GmbH hat alle Aufträge gestoppt.", ["Müller Bau GmbH"], "COMPANY"),
    ("Acme Widgets Ltd. is cutting costs.", ["Acme Widgets Ltd."], "COMPANY"),
    ("Unser Büro: Hauptstraße 12a, 10115 Berlin.", ["Hauptstraße 12a", "10115 Berlin"], "ADDRESS"),
    ("Send it to 221B Baker Street, London NW1 6XE.", ["221B Baker Street", "NW1 6XE"], "ADDRESS"),
    ("Max Muster, geb. 12.03.1980, Kunde seit 2019.", ["12.03.1980"], "BIRTHDATE"),
    ("Date of birth: 4 July 1976.", ["4 July 1976"], "BIRTHDATE"),
    ("USt-IdNr.: DE123456789", ["DE123456789", "123456789"], "TAXID"),
    ("Steuernummer 12/345/67890", ["12/345/67890"], "TAXID"),
    ("VAT No. GB123456789", ["GB123456789"], "TAXID"),
    ("IBAN: de89370400440532013000 bitte.", ["de89370400440532013000"], "IBAN"),
    ("IBAN: DE89 3704 0044 0532 0130 00 bitte.", ["3704 0044 0532"], "IBAN"),
    ("IBAN: DE 89 37040044 0532013000.", ["37040044", "0532013000"], "IBAN"),
    ("Mehr unter kraus-beratung.de/kontakt oder www.kraus.example.", ["kraus-beratung.de", "kraus.example"], "URL"),
    ("Schreiben Sie an peter.kraus@example.com.", ["peter.kraus@example.com"], "EMAIL"),
    ("Rufen Sie an: +49 (0)30 1234-5678.", ["1234-5678"], "PHONE"),
]


@pytest.mark.parametrize(("text", "private", "kind"), CASES, ids=[c[0][:40] for c in CASES])
def test_each_kind_of_personal_data_is_replaced_and_restored_exactly(text: str, private: list[str], kind: str) -> None:
    (out,), red = redact([text])
    assert out is not None
    for value in private:
        assert value not in out, out
    assert f"[{kind}_1]" in out
    assert red.restore(out) == text


def test_names_from_the_clients_mail_are_redacted_in_the_draft_too() -> None:
    draft = "Hallo,\n\nherzliches Beileid zum Tod von Ihrem Vater. Grüßen Sie Günther.\n\nViele Grüße\nTom"
    client = "Hallo Tom, mein Vater ist gestorben, wir pausieren.\n\nViele Grüße\nGünther Oßwald-Yılmaz"
    (d, c), red = redact([draft, client])
    for value in ("Günther", "Oßwald-Yılmaz", "Tom"):
        assert value not in (d or "") + (c or "")
    assert red.restore(d or "") == draft and red.restore(c or "") == client


def test_dates_times_and_amounts_stay() -> None:
    text = "Passt Ihnen der 14.03.2026 um 10:30 Uhr? Es geht um 2.400 EUR und 10000 Euro im Jahr 2024."
    (out,), red = redact([text])
    assert out == text and not red.mapping


def test_a_placeholder_in_the_text_is_restored_only_where_it_was_made() -> None:
    (out,), red = redact(["Frau Vogt schreibt."])
    assert red.restore((out or "") + " [NAME_9]") == "Frau Vogt schreibt. [NAME_9]"


def test_remote_embeddings_never_get_the_clients_text_in_clear() -> None:
    from coach.kb.embeddings import OpenAIEmbeddingFunction

    text = "Frau Vogt (miriam.vogt@example.com, IBAN DE89370400440532013000) muss kündigen."
    with FakeLLMServer() as srv:
        fn = OpenAIEmbeddingFunction(model="emb", api_key="sk-test", base_url=srv.base_url, timeout=5)
        fn.embed_query([text])
        fn([text])
        sent = " ".join(r.body.decode("utf-8") for r in srv.requests)
    assert len(srv.requests) == 2
    for value in ("Vogt", "miriam.vogt", "DE89370400440532013000"):
        assert value not in sent
    assert "[NAME_1]" in sent


def test_a_real_mail_leaves_the_machine_only_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    from coach.api import Coach

    draft = ("Sehr geehrte Frau von der Heide,\n\nkein Problem, ich storniere den Auftrag für die Heide Logistik GmbH. "
             "Herr Özdemir hat mir schon Bescheid gegeben.\n\nMit freundlichen Grüßen\nJan-Hendrik Oßwald\n"
             "Oßwald Consulting, Lindenallee 4, 50667 Köln\nUSt-IdNr. DE987654321\nwww.osswald-consulting.de\n")
    client = ("Guten Tag Herr Oßwald, mein Mann Klaus ist vor zwei Wochen verstorben (geb. 02.05.1961). "
              "Wir müssen alles stoppen. IBAN für Rückfragen: de44 5001 0517 5407 3249 31\n"
              "Mit freundlichen Grüßen\nSabine von der Heide")
    private = ["Heide", "Özdemir", "Jan-Hendrik", "Oßwald", "Lindenallee", "50667", "DE987654321",
               "osswald-consulting", "Klaus", "02.05.1961", "5407 3249", "Sabine", "Heide Logistik"]
    with FakeLLMServer(default=lambda r: Reply.status(500)) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        monkeypatch.setenv("COACH_LLM_TIMEOUT", "2")
        coach = Coach()
        coach.rewriter.disable_retrieval("not needed here")
        r = coach.rewrite(draft, client)
        sent = " ".join(req.body.decode("utf-8") for req in srv.requests)
    assert srv.requests and r.mode == "rules"
    for value in private:
        assert value not in sent, value

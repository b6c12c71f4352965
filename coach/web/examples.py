"""Example cases for the page's "load an example" menu (invented for coach; not from the eval set)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    title: str
    lang: str  # "auto", "de" or "en": the value for the page's language select
    client_message: str
    draft: str


EXAMPLES: tuple[Example, ...] = (
    Example(
        title="Deutsch (Sie): Großkunde insolvent, Projekt soll gestoppt werden",
        lang="de",
        client_message=(
            "Sehr geehrter Herr Brandt,\n\n"
            "gestern hat uns unser größter Abnehmer mitgeteilt, dass er Insolvenz anmelden muss. "
            "Damit fehlt uns auf einen Schlag fast die Hälfte des Umsatzes. Ich sehe keine andere "
            "Möglichkeit, als das Organisationsprojekt mit Ihnen sofort zu beenden. Bitte stornieren "
            "Sie die restlichen Termine.\n\n"
            "Mit freundlichen Grüßen\n"
            "Katrin Albers"
        ),
        draft=(
            "Sehr geehrte Frau Albers,\n\n"
            "kein Problem, ich habe die restlichen Termine storniert. Das ist natürlich Ihre "
            "Entscheidung. Ich wünsche Ihnen viel Erfolg für die Zukunft!\n\n"
            "Mit freundlichen Grüßen\n"
            "Jonas Brandt"
        ),
    ),
    Example(
        title="Deutsch (du): Projekt aufs nächste Jahr schieben",
        lang="de",
        client_message=(
            "Hi Mara,\n\n"
            "ich muss dir leider was sagen: Mein Mitgründer steigt aus, und ich weiß gerade nicht, "
            "wie es mit dem Laden weitergeht. Lass uns das Coaching bitte aufs nächste Jahr "
            "verschieben.\n\n"
            "LG Tim"
        ),
        draft=(
            "Hallo Tim,\n\n"
            "das kommt jetzt sehr überraschend. Ehrlich gesagt finde ich, dass du da etwas "
            "überreagierst. Laut unserem Vertrag ist eine Verschiebung erst mit acht Wochen "
            "Vorlauf möglich, die Stunden müsste ich dir also trotzdem berechnen.\n\n"
            "Viele Grüße\n"
            "Mara"
        ),
    ),
    Example(
        title="English: funding fell through, client wants to cancel",
        lang="en",
        client_message=(
            "Dear Ms Patel,\n\n"
            "I'm afraid I have bad news. Our investor pulled out of the funding round this morning, "
            "and I have to cut every cost I can. Please consider the leadership programme "
            "cancelled.\n\n"
            "Best regards,\n"
            "Daniel Hughes"
        ),
        draft=(
            "Dear Mr Hughes,\n\n"
            "No worries, I have cancelled the programme. To be honest, I think you are panicking a "
            "little. Please note that the cancellation fee of 30% is due within 14 days.\n\n"
            "Kind regards,\n"
            "Priya Patel"
        ),
    ),
    Example(
        title="English: a reply that already does it well",
        lang="en",
        client_message=(
            "Hi Sam,\n\n"
            "We lost our biggest contract last week and the board wants to put all external "
            "projects on hold. I'm sorry, but we need to stop the process redesign for now.\n\n"
            "Thanks,\n"
            "Lena"
        ),
        draft=(
            "Hi Lena,\n\n"
            "I'm really sorry to hear about the contract. I can imagine how much pressure you and "
            "the team are under right now. Before we decide anything about our work together, I'd "
            "like to offer you a call this week where we put together a concrete plan for getting "
            "through the next months. We can talk about the collaboration itself later, once things "
            "have settled.\n\n"
            "Best,\n"
            "Sam"
        ),
    ),
)


def get_example(title: str) -> Example | None:
    for e in EXAMPLES:
        if e.title == title:
            return e
    return None

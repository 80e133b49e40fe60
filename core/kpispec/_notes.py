"""The compiler's notes about a result, written in any of kpispec's languages.

A note (a partial period, how targets apply…) is a :class:`Note`: a ``str`` whose
text is English — what ``CompiledQuery.notes`` and the CLI show — that also keeps
its key and values, so that a sink writes it in the run's ``--lang``. Values
named ``grain`` or ``*_grain`` are grains, shown as words of the language.

>>> n = Note("no_targets_one", name="revenue")
>>> n, n.text("pl")
('revenue has no targets: no revenue__target column', 'revenue nie ma celów: brak kolumny revenue__target')
>>> note_text(n, "it"), note_text("a plugin's own note", "pl")
('revenue non ha obiettivi: nessuna colonna revenue__target', "a plugin's own note")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kpispec._i18n import _t, grain_text

__all__ = ["NOTES", "Note", "note_label", "note_text"]


NOTES: Mapping[str, Mapping[str, str]] = {
    # What a line of notes starts with on standard error (``note: …``).
    "note": _t("note", "notă", "uwaga", "nota", "注意", "примечание"),
    "partial_first": _t(
        "the first {grain} period ({first}) is partial: it starts before --from {start}, so only "
        "its days from {start} on are counted (--partial drop leaves it out)",
        "prima perioadă ({grain}, {first}) este parțială: începe înainte de --from {start}, deci "
        "se numără doar zilele ei de la {start} încolo (--partial drop o omite)",
        "pierwszy okres ({grain}, {first}) jest niepełny: zaczyna się przed --from {start}, więc "
        "liczone są tylko jego dni od {start} (--partial drop go pomija)",
        "il primo periodo ({grain}, {first}) è parziale: inizia prima di --from {start}, quindi "
        "si contano solo i suoi giorni da {start} in poi (--partial drop lo esclude)",
        "第一个期间（{grain}，{first}）不完整：它早于 --from {start} 开始，因此只统计 {start} "
        "及之后的日期（--partial drop 会将其排除）",
        "первый период ({grain}, {first}) неполный: он начинается до --from {start}, поэтому "
        "учитываются только его дни начиная с {start} (--partial drop его исключает)"),
    "partial_last": _t(
        "the last {grain} period ({last}) is partial: it ends after --to {end}, so only its days "
        "before {end} are counted (--partial drop leaves it out)",
        "ultima perioadă ({grain}, {last}) este parțială: se termină după --to {end}, deci se "
        "numără doar zilele ei dinainte de {end} (--partial drop o omite)",
        "ostatni okres ({grain}, {last}) jest niepełny: kończy się po --to {end}, więc liczone "
        "są tylko jego dni przed {end} (--partial drop go pomija)",
        "l'ultimo periodo ({grain}, {last}) è parziale: finisce dopo --to {end}, quindi si "
        "contano solo i suoi giorni prima di {end} (--partial drop lo esclude)",
        "最后一个期间（{grain}，{last}）不完整：它晚于 --to {end} 结束，因此只统计 {end} "
        "之前的日期（--partial drop 会将其排除）",
        "последний период ({grain}, {last}) неполный: он заканчивается после --to {end}, "
        "поэтому учитываются только его дни до {end} (--partial drop его исключает)"),
    "targets_per_period": _t(
        "targets are per period, not per dimension value: every row of a period gets the same "
        "__target",
        "țintele sunt pe perioadă, nu pe valoare de dimensiune: fiecare rând al unei perioade "
        "primește același __target",
        "cele są na okres, nie na wartość wymiaru: każdy wiersz okresu dostaje ten sam __target",
        "gli obiettivi sono per periodo, non per valore di dimensione: ogni riga di un periodo "
        "riceve lo stesso __target",
        "目标按期间设定，而非按维度值：同一期间的每一行都得到相同的 __target",
        "цели заданы на период, а не на значение измерения: каждая строка периода получает "
        "один и тот же __target"),
    "no_targets_one": _t(
        "{name} has no targets: no {name}__target column",
        "{name} nu are ținte: nu există coloana {name}__target",
        "{name} nie ma celów: brak kolumny {name}__target",
        "{name} non ha obiettivi: nessuna colonna {name}__target",
        "{name} 没有目标：没有 {name}__target 列",
        "у {name} нет целей: нет столбца {name}__target"),
    "no_targets_all": _t(
        "--targets: none of these {total} metrics has targets, so there are no __target columns "
        "(a metric's targets: in its spec gives them)",
        "--targets: niciuna dintre aceste {total} metrici nu are ținte, deci nu există coloane "
        "__target (țintele unei metrici se dau cu targets: în specificația ei)",
        "--targets: żadna z tych {total} metryk nie ma celów, więc nie ma kolumn __target "
        "(cele metryki podaje targets: w jej specyfikacji)",
        "--targets: nessuna di queste {total} metriche ha obiettivi, quindi non ci sono colonne "
        "__target (gli obiettivi di una metrica si danno con targets: nella sua specifica)",
        "--targets：这 {total} 个指标都没有目标，因此没有 __target 列（在指标的规范中用 "
        "targets: 设定目标）",
        "--targets: ни у одной из этих метрик ({total}) нет целей, поэтому столбцов __target "
        "нет (цели метрики задаются в её спецификации через targets:)"),
    "no_targets_some": _t(
        "{names} have no targets: no __target column for them",
        "{names} nu au ținte: nu există coloană __target pentru ele",
        "{names} nie mają celów: brak dla nich kolumny __target",
        "{names} non hanno obiettivi: nessuna colonna __target per loro",
        "{names} 没有目标：没有它们的 __target 列",
        "у {names} нет целей: для них нет столбца __target"),
    "no_targets_many": _t(
        "{names} and {more} more have no targets: no __target column for them",
        "{names} și încă {more} nu au ținte: nu există coloană __target pentru ele",
        "{names} i {more} innych nie mają celów: brak dla nich kolumny __target",
        "{names} e altre {more} non hanno obiettivi: nessuna colonna __target per loro",
        "{names} 以及另外 {more} 个指标没有目标：没有它们的 __target 列",
        "у {names} и ещё {more} нет целей: для них нет столбца __target"),
    "targets_grain": _t(
        "{name}: its targets per {target_grain} period do not apply by {grain}; its constant "
        "target {constant} does",
        "{name}: țintele ei pe perioadă ({target_grain}) nu se aplică la granularitatea {grain}; "
        "se aplică ținta ei constantă {constant}",
        "{name}: jej cele na okres ({target_grain}) nie mają zastosowania przy szczegółowości "
        "{grain}; obowiązuje jej stały cel {constant}",
        "{name}: i suoi obiettivi per periodo ({target_grain}) non si applicano con granularità "
        "{grain}; si applica il suo obiettivo costante {constant}",
        "{name}：其按期间（{target_grain}）设定的目标不适用于粒度 {grain}；适用其固定目标 "
        "{constant}",
        "{name}: её цели на период ({target_grain}) не применяются при гранулярности {grain}; "
        "применяется её постоянная цель {constant}"),
    "targets_missing": _t(
        "{name}: {count} target period(s) not in the result, so their targets were not "
        "compared: {shown}",
        "{name}: perioade cu ținte care lipsesc din rezultat: {count}, deci țintele lor nu au "
        "fost comparate: {shown}",
        "{name}: okresy z celami spoza wyniku: {count}, więc ich celów nie porównano: {shown}",
        "{name}: periodi con obiettivo assenti dal risultato: {count}, quindi i loro obiettivi "
        "non sono stati confrontati: {shown}",
        "{name}：有 {count} 个设有目标的期间不在结果中，因此未比较其目标：{shown}",
        "{name}: периоды с целями, которых нет в результате: {count}, поэтому их цели не "
        "сравнивались: {shown}"),
}


class Note(str):
    """A note on a result: English as a ``str``, in any language through :meth:`text`."""

    key: str
    values: Mapping[str, Any]

    def __new__(cls, key: str, **values: Any) -> Note:
        note = super().__new__(cls, _render(key, "en", values))
        note.key = key
        note.values = values
        return note

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict[str, Any]]:
        return (self.key,), dict(self.values)

    def text(self, lang: str) -> str:
        """The note in ``lang`` (English when it is not one of kpispec's languages)."""
        return _render(self.key, lang, self.values)


def _render(key: str, lang: str, values: Mapping[str, Any]) -> str:
    entry = NOTES[key]
    shown = {name: grain_text(str(value), lang) if name == "grain" or name.endswith("_grain")
             else value for name, value in values.items()}
    return (entry.get(lang) or entry["en"]).format(**shown)


def note_text(note: str, lang: str) -> str:
    """``note`` in ``lang``: a :class:`Note` in that language, any other text as it is."""
    return note.text(lang) if isinstance(note, Note) else str(note)


def note_label(lang: str) -> str:
    """What a note's line starts with: ``note``, ``uwaga``…"""
    return NOTES["note"].get(lang) or NOTES["note"]["en"]

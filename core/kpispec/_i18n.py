"""The words kpispec writes itself in reports, tables and workbooks, in every label language.

Metric and dimension labels come from the specs; everything else a sink writes for
people — a report's title and headings, column headers for comparisons and
targets, the word for a missing dimension value, notes — comes from here, in the
run's ``--lang``. Languages: those of :data:`TEXTS` (the CRM catalog's six), plus
any language a label of the project is written in (its texts fall back to English).

>>> text("change", "pl"), text("null", "it"), text("table_rows", "en", shown=10, total=12)
('zmiana', '(nessuno)', 'The table shows the first 10 of 12 rows.')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["LANGUAGES", "MONTHS", "TEXTS", "check_lang", "grain_text", "languages", "month_text",
           "text"]

#: The languages every text below is written in.
LANGUAGES = ("en", "ro", "pl", "it", "zh", "ru")

_T = dict[str, str]


def _t(en: str, ro: str, pl: str, it: str, zh: str, ru: str) -> _T:
    return dict(zip(LANGUAGES, (en, ro, pl, it, zh, ru)))


TEXTS: Mapping[str, _T] = {
    # A dimension value that is NULL (the table, report and workbook show this word).
    "null": _t("(none)", "(niciuna)", "(brak)", "(nessuno)", "（无）", "(нет)"),
    # Column headers: "<metric label> (<suffix>)" in the table, the suffix alone in the report.
    "compare": _t("compare", "comparație", "porównanie", "confronto", "对比值", "сравнение"),
    "change": _t("change", "variație", "zmiana", "variazione", "变化", "изменение"),
    "change_pct": _t("change %", "variație %", "zmiana %", "variazione %", "变化 %",
                     "изменение %"),
    "target": _t("target", "țintă", "cel", "obiettivo", "目标", "цель"),
    "attainment": _t("attainment", "realizare", "realizacja", "raggiungimento", "达成率",
                     "выполнение"),
    # The report.
    "title": _t("kpispec report", "Raport kpispec", "Raport kpispec", "Report kpispec",
                "kpispec 报告", "Отчёт kpispec"),
    "grain": _t("Grain", "Granularitate", "Szczegółowość", "Granularità", "粒度", "Гранулярность"),
    "period": _t("period", "perioadă", "okres", "periodo", "期间", "период"),
    "period_label": _t("period_label", "etichetă perioadă", "nazwa okresu", "etichetta periodo",
                       "期间名称", "название периода"),
    "range": _t("Range", "Interval", "Zakres", "Intervallo", "范围", "Диапазон"),
    "open_start": _t("the beginning", "început", "początek", "l'inizio", "最早", "начало"),
    "open_end": _t("now", "acum", "teraz", "oggi", "现在", "сейчас"),
    "exclusive": _t("exclusive", "exclusiv", "bez tej daty", "escluso", "不含", "не включая"),
    "by": _t("By", "După", "Według", "Per", "按", "По"),
    "compared_with": _t("Compared with", "Comparat cu", "W porównaniu z", "Confrontato con",
                        "对比", "Сравнение с"),
    "source": _t("Source", "Sursă", "Źródło", "Origine", "数据源", "Источник"),
    "rows": _t("Rows", "Rânduri", "Wiersze", "Righe", "行数", "Строки"),
    "generated": _t("Generated", "Generat", "Wygenerowano", "Generato", "生成时间", "Создано"),
    "metrics": _t("Metrics", "Metrici", "Metryki", "Metriche", "指标", "Метрики"),
    "formula": _t("Formula", "Formulă", "Wzór", "Formula", "公式", "Формула"),
    "no_rows": _t("No rows.", "Niciun rând.", "Brak wierszy.", "Nessuna riga.", "没有数据。",
                  "Нет строк."),
    "notes": _t("Notes", "Note", "Uwagi", "Note", "说明", "Примечания"),
    "sql": _t("The SQL that ran", "SQL-ul executat", "Wykonane zapytanie SQL", "L'SQL eseguito",
              "执行的 SQL", "Выполненный SQL"),
    "footer": _t(
        "Made by kpispec. Every value above comes from the SQL shown; nothing was fetched to "
        "draw this page.",
        "Generat de kpispec. Fiecare valoare de mai sus provine din SQL-ul afișat; nimic nu a "
        "fost descărcat pentru a desena această pagină.",
        "Wygenerowane przez kpispec. Każda wartość powyżej pochodzi z pokazanego zapytania SQL; "
        "do narysowania tej strony nic nie zostało pobrane.",
        "Generato da kpispec. Ogni valore qui sopra viene dall'SQL mostrato; per disegnare "
        "questa pagina non è stato scaricato nulla.",
        "由 kpispec 生成。以上每个数值都来自所示的 SQL；绘制本页面未获取任何外部内容。",
        "Создано kpispec. Каждое значение выше получено показанным SQL; для этой страницы "
        "ничего не загружалось."),
    "chart_by": _t("{label} by {grain}", "{label} pe {grain}", "{label} według: {grain}",
                   "{label} per {grain}", "{label}（按{grain}）", "{label} по периодам: {grain}"),
    "chart_some": _t(
        "The chart shows the {shown} largest of {total} series; the table has them all.",
        "Graficul arată cele mai mari {shown} din {total} serii; tabelul le are pe toate.",
        "Wykres pokazuje {shown} największych z {total} serii; tabela zawiera wszystkie.",
        "Il grafico mostra le {shown} serie più grandi su {total}; la tabella le ha tutte.",
        "图表显示 {total} 个序列中最大的 {shown} 个；表格包含全部序列。",
        "На графике {shown} крупнейших рядов из {total}; в таблице есть все."),
    "table_rows": _t(
        "The table shows the first {shown} of {total} rows.",
        "Tabelul arată primele {shown} din {total} rânduri.",
        "Tabela pokazuje pierwsze {shown} z {total} wierszy.",
        "La tabella mostra le prime {shown} di {total} righe.",
        "表格显示 {total} 行中的前 {shown} 行。",
        "В таблице первые {shown} из {total} строк."),
    "no_values": _t(
        "No values to chart: every value of this metric is NULL.",
        "Nicio valoare de reprezentat: toate valorile acestei metrici sunt NULL.",
        "Brak wartości do wykresu: każda wartość tej metryki to NULL.",
        "Nessun valore da rappresentare: ogni valore di questa metrica è NULL.",
        "没有可绘制的数值：该指标的所有值均为 NULL。",
        "Нечего показать на графике: все значения этой метрики — NULL."),
    "compare_series": _t("compare ({what})", "comparație ({what})", "porównanie ({what})",
                         "confronto ({what})", "对比（{what}）", "сравнение ({what})"),
    "previous_period": _t("previous period", "perioada anterioară", "poprzedni okres",
                          "periodo precedente", "上一周期", "предыдущий период"),
    "same_period_last_year": _t("same period last year", "aceeași perioadă a anului trecut",
                                "ten sam okres rok wcześniej", "stesso periodo dell'anno scorso",
                                "去年同期", "тот же период прошлого года"),
    "baseline": _t("baseline {start} to {end}", "referință {start} – {end}",
                   "bazowy okres {start} – {end}", "base {start} – {end}",
                   "基准期 {start} 至 {end}", "база {start} – {end}"),
    # The workbook's "about" sheet.
    "metric": _t("metric", "metrică", "metryka", "metrica", "指标", "метрика"),
    "label": _t("label", "etichetă", "etykieta", "etichetta", "标签", "название"),
    "description": _t("description", "descriere", "opis", "descrizione", "说明", "описание"),
    "from": _t("from", "de la", "od", "da", "起始", "с"),
    "to_exclusive": _t("to (exclusive)", "până la (exclusiv)", "do (bez tej daty)",
                       "a (escluso)", "截至（不含）", "по (не включая)"),
    "open": _t("(open)", "(deschis)", "(otwarty)", "(aperto)", "（不限）", "(открыт)"),
    "dimensions": _t("dimensions", "dimensiuni", "wymiary", "dimensioni", "维度", "измерения"),
    "comparison": _t("comparison", "comparație", "porównanie", "confronto", "对比", "сравнение"),
    # Grains.
    "day": _t("day", "zi", "dzień", "giorno", "日", "день"),
    "week": _t("week", "săptămână", "tydzień", "settimana", "周", "неделя"),
    "month": _t("month", "lună", "miesiąc", "mese", "月", "месяц"),
    "quarter": _t("quarter", "trimestru", "kwartał", "trimestre", "季度", "квартал"),
    "year": _t("year", "an", "rok", "anno", "年", "год"),
    "fiscal_quarter": _t("fiscal quarter", "trimestru fiscal", "kwartał obrachunkowy",
                         "trimestre fiscale", "财季", "финансовый квартал"),
    "fiscal_year": _t("fiscal year", "an fiscal", "rok obrachunkowy", "anno fiscale", "财年",
                      "финансовый год"),
}


#: Short month names, for chart axes (``Jan 2024``).
MONTHS: Mapping[str, tuple[str, ...]] = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "ro": ("ian", "feb", "mar", "apr", "mai", "iun", "iul", "aug", "sep", "oct", "nov", "dec"),
    "pl": ("sty", "lut", "mar", "kwi", "maj", "cze", "lip", "sie", "wrz", "paź", "lis", "gru"),
    "it": ("gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"),
    "zh": tuple(f"{m}月" for m in range(1, 13)),
    "ru": ("янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"),
}


def month_text(year: int, month: int, lang: str) -> str:
    """A month as a chart shows it: ``Feb 2024``, ``lut 2024``, ``2024年2月``.

    >>> month_text(2024, 2, "pl"), month_text(2024, 2, "zh"), month_text(2024, 2, "xx")
    ('lut 2024', '2024年2月', 'Feb 2024')
    """
    names = MONTHS.get(lang) or MONTHS["en"]
    if lang == "zh":
        return f"{year}年{names[month - 1]}"
    return f"{names[month - 1]} {year}"


def text(key: str, lang: str, **values: Any) -> str:
    """The text ``key`` in ``lang`` (English when it has none), with ``values`` filled in."""
    entry = TEXTS[key]
    found = entry.get(lang) or entry["en"]
    return found.format(**values) if values else found


def grain_text(grain: str, lang: str) -> str:
    """A grain as a word (``fiscal_quarter`` → ``fiscal quarter``; a calendar's own grain as is)."""
    return text(grain, lang) if grain in TEXTS else grain.replace("_", " ")


def languages(project: Any = None) -> list[str]:
    """The languages ``--lang`` takes: kpispec's own, and every one a label of ``project`` has."""
    found = set(LANGUAGES)
    for item in _labelled(project):
        labels = getattr(item, "labels", None)
        if isinstance(labels, Mapping):
            found.update(str(k) for k in labels)
    return sorted(found, key=lambda lang: (lang not in LANGUAGES, LANGUAGES.index(lang)
                                           if lang in LANGUAGES else 0, lang))


def _labelled(project: Any) -> Iterable[Any]:
    if project is None:
        return
    yield from (getattr(project, "metrics", None) or {}).values()
    for model in (getattr(project, "models", None) or {}).values():
        yield model
        yield from (getattr(model, "dimensions", None) or {}).values()


def check_lang(lang: str, project: Any = None) -> None:
    """Refuse a ``--lang`` no text or label is written in.

    Raises:
        kpispec.errors.QueryError: naming ``--lang`` and the languages there are.
    """
    known = languages(project)
    if lang in known:
        return
    from kpispec.errors import QueryError
    from kpispec.spec.schema import suggest

    hint = suggest(lang, known)
    raise QueryError(f"--lang {lang!r}: no label or report text is written in that language",
                     hint=(hint + " " if hint else "") + f"Choose one of {', '.join(known)}")

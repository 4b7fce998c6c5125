"""Spreadsheets as French Excel writes and reads them: CSV and .xlsx, as plain tables.

This module knows files, not experiments: a `Table` is a header row and value rows, read
from the bytes a commune uploads (CSV in UTF-8 with or without BOM or in Windows-1252,
separator ``;``, ``,`` or tab; an .xlsx workbook whose date cells come out as dates) or
written for Excel (CSV with ``;`` and a BOM; .xlsx with typed cells, drop-down lists and an
instructions sheet). `geoapp.registry_files` maps the columns to the registry's fields.

Every file is read at most ``max_rows`` data rows deep: a larger one is refused before its
rows are interpreted (the limit is the import's setting, ``GEOAPP_IMPORT_MAX_ROWS``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import openpyxl
import python_calamine
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from geoapp.errors import GeoappError
from geoapp.vocabulary import fr_num

BOM = "\ufeff"
DELIMITERS = (";", ",", "\t")
_DELIMITER_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation"}
DATA_SHEET = "Expérimentations"
LISTS_SHEET = "Listes"
HELP_SHEET = "Mode d’emploi"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Table:
    """A header row and the data rows under it, as read from one file.

    ``first`` is the number a person sees for the first data row (2 in a spreadsheet,
    whose row 1 is the header); ``encoding`` and ``delimiter`` say what was detected.
    """

    headers: list[str]
    rows: list[list[Any]]
    first: int = 2
    encoding: str | None = None
    delimiter: str | None = None


def too_many_rows(count: int, limit: int) -> GeoappError:
    """The French refusal of a file holding more than ``limit`` data rows."""
    return GeoappError(
        f"Le fichier compte plus de {fr_num(limit, 0)} lignes (au moins {fr_num(count, 0)}) : "
        f"importez-le en plusieurs fichiers de {fr_num(limit, 0)} lignes au plus.",
        413,
    )


# CSV -----------------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding found: UTF-8 (BOM or not), else Windows-1252.

    French Excel saves "CSV (séparateur : point-virgule)" in Windows-1252 and "CSV UTF-8"
    with a BOM. A file that is valid UTF-8 is UTF-8 (accents in Windows-1252 are never
    valid UTF-8 sequences); otherwise Windows-1252, where five bytes are undefined: a file
    holding one of them is neither, and refused.
    """
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as exc:
        raise GeoappError(
            "Le fichier CSV n’est ni en UTF-8 ni en Windows-1252 (Excel « CSV UTF-8 » ou "
            "« CSV (séparateur : point-virgule) ») : enregistrez-le sous l’un de ces formats.",
            400,
        ) from exc


def sniff_delimiter(header_line: str) -> str:
    """The separator of a CSV from its header line: the most frequent of ``; , tab``
    outside quotes (French Excel writes ``;``, other tools ``,`` or tab)."""
    outside, quoted = [], False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted:
            outside.append(char)
    counts = {d: outside.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ";"


def read_csv_table(data: bytes, *, max_rows: int) -> Table:
    """A CSV file as a `Table` (encoding and separator detected); 400/413 in French."""
    text, encoding = decode_text(data)
    if not text.strip():
        raise GeoappError("Le fichier est vide.", 400)
    delimiter = sniff_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = next(reader, [])
        rows = []
        for row in reader:
            if len(rows) >= max_rows:
                raise too_many_rows(len(rows) + 1, max_rows)
            rows.append(row)
    except csv.Error as exc:
        raise GeoappError(csv_error(reader.line_num, exc), 400) from exc
    return Table(headers, _drop_blank(rows), encoding=encoding, delimiter=delimiter)


def csv_error(line: int, exc: csv.Error) -> str:
    """French reason for a CSV the reader gave up on (a giant cell, broken quoting)."""
    if "field larger than field limit" in str(exc):
        limit = fr_num(csv.field_size_limit(), 0)
        return f"CSV illisible à la ligne {line} : une cellule dépasse {limit} caractères."
    return f"CSV illisible à la ligne {line} : guillemets ou séparateurs mal formés."


def delimiter_name(delimiter: str | None) -> str:
    return _DELIMITER_NAMES.get(delimiter or ";", "point-virgule")


def write_csv_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """CSV bytes for French Excel: ``;``, CRLF, UTF-8 with BOM (accents intact)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return (BOM + out.getvalue()).encode("utf-8")


def _drop_blank(rows: list[list[Any]]) -> list[list[Any]]:
    """Trailing empty rows go (Excel leaves some); an empty row in the middle stays, so
    row numbers still match what the person sees in the spreadsheet."""
    while rows and all(_blank(v) for v in rows[-1]):
        rows.pop()
    return rows


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# XLSX ----------------------------------------------------------------------------------


def read_xlsx_table(data: bytes, *, max_rows: int) -> Table:
    """The data sheet of a workbook as a `Table`: the sheet named « Expérimentations »,
    else the first. Cells keep their type: numbers, text, and dates as `datetime.date`
    (Excel date cells are numbers with a date format: the reader applies it).

    Read with calamine (Rust, streaming): about five times faster than openpyxl on a
    5 000-row sheet, and it expands no XML entities. openpyxl writes our workbooks.
    """
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        name = DATA_SHEET if DATA_SHEET in book.sheet_names else book.sheet_names[0]
        values = book.get_sheet_by_name(name).iter_rows()
        headers = ["" if v is None else str(v) for v in next(values, [])]
        rows = []
        for row in values:
            if len(rows) >= max_rows:
                if all(_blank(v) for v in row):
                    continue  # formatted but empty rows below the data
                raise too_many_rows(len(rows) + 1, max_rows)
            rows.append([_xlsx_value(v) for v in row])
    except (python_calamine.CalamineError, IndexError, ValueError) as exc:
        raise GeoappError(
            "Classeur Excel illisible : un fichier .xlsx enregistré par Excel ou LibreOffice "
            "est attendu (les anciens .xls ne sont pas lus : enregistrez-le en .xlsx).",
            400,
        ) from exc
    return Table(_trim_headers(headers), _drop_blank(rows))


def _trim_headers(headers: list[str]) -> list[str]:
    while headers and not headers[-1].strip():
        headers.pop()
    return headers


def _xlsx_value(value: Any) -> Any:
    """A cell as the import reads it: empty is ``None``, a datetime at midnight is the
    date Excel shows."""
    if value == "":
        return None
    if isinstance(value, datetime):
        return value.date() if value.time() == datetime.min.time() else value
    return value


def write_xlsx_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    choices: dict[str, Sequence[str]] | None = None,
    help_lines: Sequence[str] = (),
    widths: dict[str, int] | None = None,
) -> bytes:
    """An .xlsx workbook: the data sheet, then the lists and instructions if given.

    Text cells are written as text (type ``s``), never as formulas, whatever they start
    with: a cell holding ``=1+1`` shows ``=1+1`` and is read back as such. ``choices``
    maps a header to its allowed values: a drop-down (Excel data validation) on that
    column, down to row 10 000 (the template's empty rows included).
    Dates go in as `datetime.date`, shown ``jj/mm/aaaa``.
    """
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(DATA_SHEET)
    bold = Font(bold=True)
    sheet.freeze_panes = "A2"
    for index, header in enumerate(headers, start=1):
        width = (widths or {}).get(header, max(12, min(40, len(header) + 4)))
        sheet.column_dimensions[get_column_letter(index)].width = width
    if choices:
        _add_validations(book, sheet, headers, choices)
    sheet.append([_cell(sheet, h, font=bold) for h in headers])
    for row in rows:
        sheet.append([_cell(sheet, v) for v in row])
    if help_lines:
        help_sheet = book.create_sheet(HELP_SHEET)
        help_sheet.column_dimensions["A"].width = 120
        wrap = Alignment(wrap_text=True, vertical="top")
        for line in help_lines:
            help_sheet.append([_cell(help_sheet, line, alignment=wrap)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(sheet, value: Any, **style) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, never a formula, whatever it starts with
    elif isinstance(value, date):
        cell.number_format = "DD/MM/YYYY"
    for name, option in style.items():
        setattr(cell, name, option)
    return cell


def _add_validations(book, sheet, headers: Sequence[str], choices: dict) -> None:
    """Drop-down lists read from a « Listes » sheet (a list longer than 255 characters
    cannot be written inline), on each chosen column from row 2 to row 10 000."""
    lists = book.create_sheet(LISTS_SHEET)
    columns = [h for h in headers if h in choices]
    lists.append([_cell(lists, h) for h in columns])
    longest = max(len(choices[h]) for h in columns)
    for i in range(longest):
        lists.append(
            [_cell(lists, v[i] if i < len(v) else None) for v in map(choices.get, columns)]
        )
    for list_index, header in enumerate(columns, start=1):
        letter = get_column_letter(list_index)
        source = f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(choices[header]) + 1}"
        check = DataValidation(type="list", formula1=source, allow_blank=True)
        check.error = "Choisissez une valeur de la liste."
        check.errorTitle = "Valeur inconnue"
        check.showErrorMessage = True
        target = get_column_letter(list(headers).index(header) + 1)
        check.add(f"{target}2:{target}10000")
        sheet.data_validations.append(check)

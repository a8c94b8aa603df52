"""Extract the app's texts into ``messages.pot`` and update the ``.po`` catalogues.

``python -m selfcare.locales.extract`` (``make i18n``). Texts are marked with ``tr("…")``,
``gettext(lang, "…")``, ``later("…")`` or ``N_("…")``; a helper that hands one of its own parameters to
``tr``/``gettext`` (``_box(title_key, …)``, ``nav_item(label_key, …)``) becomes a keyword
too, found by reading the code, so a literal passed to it is extracted without a marker.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

APP = Path(__file__).resolve().parents[1]
LOCALES = APP / "locales"
BASE_KEYWORDS: dict[str, tuple[int, ...] | None] = {"tr": None, "gettext": (2,), "N_": None, "later": None}


def _param_position(fn: ast.FunctionDef, call: ast.Call, arg_index: int) -> int | None:
    """1-based position among ``fn``'s parameters of the name given as the call's argument."""
    arg = call.args[arg_index] if len(call.args) > arg_index else None
    if not isinstance(arg, ast.Name):
        return None
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    name = arg.id
    return params.index(name) + 1 if name in params else None


def keywords(root: Path = APP) -> dict[str, tuple[int, ...] | None]:
    """The extraction keywords: the markers and every helper passing a parameter to one."""
    found: dict[str, tuple[int, ...] | None] = dict(BASE_KEYWORDS)
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef) or fn.name in BASE_KEYWORDS:
                continue
            for call in ast.walk(fn):
                if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
                    continue
                index = {"tr": 0, "gettext": 1}.get(call.func.id)
                pos = None if index is None else _param_position(fn, call, index)
                if pos is not None and fn.name not in found:
                    found[fn.name] = None if pos == 1 else (pos,)
    return found


def extract(root: Path = APP) -> Catalog:
    """Every marked text of the app, as a catalogue template."""
    catalog = Catalog(project="selfcare", msgid_bugs_address=None)
    for _file, _lineno, message, comments, context in extract_from_dir(
        str(root), keywords=keywords(root), method_map=[("**.py", "python")]
    ):
        catalog.add(message, None, [], auto_comments=comments, context=context)
    return catalog


def _catalog_key(message: Message) -> str | tuple[str, str]:
    """The key a catalogue files ``message`` under (as babel's ``Catalog``): the singular id, and the
    context when there is one."""
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return (msgid, message.context) if message.context else msgid


def main() -> int:
    template = extract()
    with (LOCALES / "messages.pot").open("wb") as fh:
        write_po(fh, template, omit_header=False, no_location=True)
    for po_path in sorted(LOCALES.glob("*/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parts[-3])
        # A text that comes back (moved, or marked again) gets its old translation back.
        earlier = {m.id: m.string for m in catalog.obsolete.values() if m.string}
        catalog.update(template, no_fuzzy_matching=True)
        for message in catalog:
            if message.id and not message.string and message.id in earlier:
                message.string = earlier[message.id]
                catalog.obsolete.pop(_catalog_key(message), None)
        with po_path.open("wb") as fh:
            write_po(fh, catalog, no_location=True, ignore_obsolete=False)
        missing = [m.id for m in catalog if m.id and not m.string]
        print(f"{po_path.relative_to(APP)}: {len(catalog)} texts, {len(missing)} without a translation")
    return 0


if __name__ == "__main__":
    sys.exit(main())

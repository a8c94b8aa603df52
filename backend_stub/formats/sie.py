"""SIE 4 (Svenska Institutet för Ekonomisk Standard, "SIE filformat" version 4): writing and reading back.

Only what a transfer of verifications needs: #FLAGGA, #PROGRAM, #FORMAT PC8, #GEN, #SIETYP 4,
#FNAMN, #ORGNR, #RAR, #KONTO, #VER with #TRANS rows. Amounts are kronor with two decimals
(positive = debit). The file is in code page 437 ("PC8"), as the format prescribes.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from datetime import date


@dataclass
class Trans:
    account: str
    amount_ore: int


@dataclass
class Verification:
    series: str
    number: int
    day: date
    text: str
    trans: list[Trans] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return sum(t.amount_ore for t in self.trans) == 0


class SieError(ValueError):
    pass


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _kr(ore: int) -> str:
    sign = "-" if ore < 0 else ""
    return f"{sign}{abs(ore) // 100}.{abs(ore) % 100:02d}"


def write_sie(
    *,
    company: str,
    org_number: str,
    generated: date,
    year_start: date,
    year_end: date,
    accounts: dict[str, str],
    verifications: list[Verification],
    program: str = "Selfcare",
) -> bytes:
    """The SIE 4 file; raises ``SieError`` if a verification does not balance."""
    out = [
        "#FLAGGA 0",
        f"#PROGRAM {_q(program)} 0.1",
        "#FORMAT PC8",
        f"#GEN {generated:%Y%m%d}",
        "#SIETYP 4",
        f"#FNAMN {_q(company)}",
        f"#ORGNR {org_number}",
        f"#RAR 0 {year_start:%Y%m%d} {year_end:%Y%m%d}",
    ]
    out += [f"#KONTO {no} {_q(name)}" for no, name in sorted(accounts.items())]
    for v in verifications:
        if not v.balanced:
            raise SieError(f"verification {v.series} {v.number} ({v.text}) does not balance")
        out.append(f"#VER {v.series} {v.number} {v.day:%Y%m%d} {_q(v.text)}")
        out.append("{")
        out += [f"   #TRANS {t.account} {{}} {_kr(t.amount_ore)}" for t in v.trans]
        out.append("}")
    return ("\r\n".join(out) + "\r\n").encode("cp437", errors="replace")


@dataclass
class SieFile:
    flags: dict[str, list[str]]
    accounts: dict[str, str]
    verifications: list[Verification]


def _ore(text: str, line: int) -> int:
    neg = text.startswith("-")
    whole, _, frac = text.lstrip("-+").partition(".")
    if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
        raise SieError(f"line {line}: amount {text!r} is not a number with at most two decimals")
    ore = int(whole) * 100 + int((frac + "00")[:2])
    return -ore if neg else ore


def parse_sie(data: bytes) -> SieFile:
    """Read a SIE 4 file (as written here, and the common subset of others); errors name the line."""
    text = data.decode("cp437")
    flags: dict[str, list[str]] = {}
    accounts: dict[str, str] = {}
    vers: list[Verification] = []
    cur: Verification | None = None
    in_block = False
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line == "{":
            if cur is None or in_block:
                raise SieError(f"line {no}: '{{' without a #VER")
            in_block = True
            continue
        if line == "}":
            if not in_block:
                raise SieError(f"line {no}: '}}' without '{{'")
            in_block, cur = False, None
            continue
        try:
            parts = shlex.split(line.replace("{}", '""'), posix=True)
        except ValueError as exc:
            raise SieError(f"line {no}: {exc}") from None
        tag, args = parts[0], parts[1:]
        if tag == "#TRANS":
            if not in_block or cur is None:
                raise SieError(f"line {no}: #TRANS outside a verification")
            cur.trans.append(Trans(args[0], _ore(args[2], no)))
        elif tag == "#VER":
            d = args[2]
            cur = Verification(
                args[0], int(args[1]), date(int(d[:4]), int(d[4:6]), int(d[6:8])), args[3] if len(args) > 3 else ""
            )
            vers.append(cur)
        elif tag == "#KONTO":
            accounts[args[0]] = args[1]
        else:
            flags[tag] = args
    if in_block:
        raise SieError("end of file inside a verification")
    return SieFile(flags, accounts, vers)

"""The demo's usage records (CDRs), built for throughput (a benchmark streams 1,000,000 rows): all calendar
work (dates, Europe/Stockholm offsets, hour-of-day weights) is precomputed once per month, and each event
costs a handful of ``random()``/``getrandbits()`` calls, one ``bisect`` and some string concatenation.
"""

from __future__ import annotations

import calendar
import math
import random
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from statistics import NormalDist
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backend_stub.demo.demo_data.months import cumulative, parse_date, usage_months

# Median monthly data volume (bytes) per plan for an average subscriber. Per-subscriber
# and per-month lognormal multipliers spread this so that a share of bas/5gb users go
# over their allowance in some months.
_PLAN_DATA_MEDIAN: dict[str, float] = {
    "mobil-bas": 0.6e9,
    "mobil-5gb": 3.0e9,
    "mobil-20gb": 9.0e9,
    "mobil-obegransad": 24.0e9,
}

_DEFAULT_DATA_MEDIAN = 3.0e9

_MIN_SESSION = 1_000

_MAX_SESSION = 800_000_000

# Roaming trips: (country, weight, local number prefix, digits after the prefix).
_TRIP_COUNTRIES: tuple[tuple[str, int, str, int], ...] = (
    ("ES", 24, "+346", 8),
    ("IT", 14, "+393", 9),
    ("FR", 12, "+336", 8),
    ("DE", 10, "+4917", 8),
    ("GR", 12, "+3069", 8),
    ("NO", 10, "+479", 7),
    ("US", 7, "+1212", 7),
    ("TH", 6, "+668", 8),
    ("TR", 5, "+905", 9),
)

# Hour-of-day activity (Europe/Stockholm local time).
# fmt: off
_WEEKDAY_HOURS: tuple[float, ...] = (
    1.2, 0.6, 0.3, 0.2, 0.2, 0.5, 1.8, 4.5, 6.5, 6.0, 6.0, 7.0, 9.0, 7.5, 6.0, 6.0, 7.0,
    8.5, 8.5, 9.0, 10.0, 9.0, 6.0, 3.0,
)
# fmt: on


# fmt: off
_WEEKEND_HOURS: tuple[float, ...] = (
    3.0, 2.0, 1.2, 0.6, 0.3, 0.3, 0.5, 1.2, 2.8, 5.0, 7.0, 8.0, 8.5, 8.5, 8.0, 8.0, 8.0,
    8.0, 8.5, 9.5, 10.0, 9.0, 7.0, 5.0,
)
# fmt: on


def _eu_offset_hours(year: int, month: int, day: int, hour: int) -> int | None:
    """Fallback for Europe/Stockholm without tz database: EU DST rule (01:00 UTC)."""

    def last_sunday(m: int) -> int:
        last = calendar.monthrange(year, m)[1]
        return last - (date(year, m, last).weekday() + 1) % 7

    start = datetime(year, 3, last_sunday(3), 1)  # UTC
    end = datetime(year, 10, last_sunday(10), 1)
    local = datetime(year, month, day, hour, 30)
    as_winter = local - timedelta(hours=1)
    as_summer = local - timedelta(hours=2)
    winter_ok = not (start <= as_winter < end)
    summer_ok = start <= as_summer < end
    if summer_ok:
        return 2
    if winter_ok:
        return 1
    return None  # skipped hour (spring forward)


def _stockholm_offsets(year: int, month: int) -> list[str | None]:
    """Offset string per (day, hour) slot of a month; None where the hour doesn't exist."""
    days = calendar.monthrange(year, month)[1]
    tz: ZoneInfo | None
    try:
        tz = ZoneInfo("Europe/Stockholm")
    except ZoneInfoNotFoundError:  # pragma: no cover - no tz database available
        tz = None
    out: list[str | None] = []
    for day in range(1, days + 1):
        for hour in range(24):
            if tz is None:  # pragma: no cover
                hours = _eu_offset_hours(year, month, day, hour)
            else:
                local = datetime(year, month, day, hour, 30, tzinfo=tz)
                roundtrip = local.astimezone(UTC).astimezone(tz)
                if roundtrip.replace(tzinfo=None) != local.replace(tzinfo=None):
                    hours = None
                else:
                    off = local.utcoffset()
                    hours = int(off.total_seconds() // 3600) if off is not None else 0
            out.append(None if hours is None else f"+{hours:02d}:00")
    return out


_MMSS_BY_OFFSET: dict[str, list[str]] = {}


def _mmss_table(offset: str) -> list[str]:
    table = _MMSS_BY_OFFSET.get(offset)
    if table is None:
        table = [f"{s // 60:02d}:{s % 60:02d}{offset}" for s in range(3600)]
        _MMSS_BY_OFFSET[offset] = table
    return table


class _Month:
    """Precomputed calendar of one month: slot = day_index * 24 + hour."""

    __slots__ = ("cum", "days", "first", "last", "nslots", "prefix", "suffix", "yyyymm")

    def __init__(self, first: date, last: date) -> None:
        self.first = first
        self.last = last
        self.days = last.day
        self.yyyymm = f"{first.year:04d}{first.month:02d}"
        offsets = _stockholm_offsets(first.year, first.month)
        self.prefix: list[str] = []
        self.suffix: list[list[str]] = []
        weights: list[float] = []
        for d in range(self.days):
            day = first + timedelta(days=d)
            iso = day.isoformat()
            wd = day.weekday()
            hours = _WEEKEND_HOURS if wd >= 5 else _WEEKDAY_HOURS
            for h in range(24):
                off = offsets[d * 24 + h]
                self.prefix.append(f"{iso}T{h:02d}:")
                self.suffix.append(_mmss_table(off or "+01:00"))
                w = hours[h]
                if wd == 4 and h >= 18:  # Friday evening
                    w *= 1.15
                weights.append(0.0 if off is None else w)
        self.cum = cumulative(weights)
        self.nslots = len(weights)

    def mass(self, lo_slot: int, hi_slot: int) -> float:
        """Total weight of slots [lo_slot, hi_slot)."""
        if hi_slot <= lo_slot:
            return 0.0
        before = self.cum[lo_slot - 1] if lo_slot > 0 else 0.0
        return self.cum[hi_slot - 1] - before


_MONTH_CACHE: dict[tuple[date, date], _Month] = {}


def _month(first: date, last: date) -> _Month:
    key = (first, last)
    month = _MONTH_CACHE.get(key)
    if month is None:
        month = _Month(first, last)
        _MONTH_CACHE[key] = month
    return month


_TABLES: dict[str, list[Any]] = {}


def _lognormal_quantiles(size: int, sigma: float) -> list[float]:
    nd = NormalDist()
    return [math.exp(sigma * nd.inv_cdf((i + 0.5) / size)) for i in range(size)]


def _data_table() -> list[float]:
    """65536 quantiles of a skewed (lognormal, sigma 1.7) session size, mean 1.0."""
    table = _TABLES.get("data")
    if table is None:
        q = _lognormal_quantiles(1 << 16, 1.7)
        mean = sum(q) / len(q)
        table = [v / mean for v in q]
        _TABLES["data"] = table
    return table


def _voice_table() -> list[str]:
    """4096 call durations as strings: ~7 % unanswered (0 s), median ~50 s, max 1800 s."""
    table = _TABLES.get("voice")
    if table is None:
        size = 4096
        zeros = int(size * 0.07)
        q = _lognormal_quantiles(size - zeros, 1.15)
        durations = [0] * zeros + [max(1, min(1800, round(48 * v))) for v in q]
        shuffler = random.Random(4096)
        shuffler.shuffle(durations)
        table = [str(d) for d in durations]
        _TABLES["voice"] = table
    return table


_SEQ: list[str] = [f"{i:05d}" for i in range(1001)]


def _seq_strings(n: int) -> list[str]:
    if n >= len(_SEQ):
        _SEQ.extend(f"{i:05d}" for i in range(len(_SEQ), n + 1))
    return _SEQ


# Called-number generators: (weight, prefix, digits of random tail).
_NUMBER_KINDS: tuple[tuple[float, str, int], ...] = (
    (15.0, "+4670", 7),
    (12.0, "+4672", 7),
    (12.0, "+4673", 7),
    (14.0, "+4676", 7),
    (5.0, "+4679", 7),
    (9.0, "+468", 7),
    (4.0, "+4631", 6),
    (3.0, "+4640", 6),
    (1.5, "+4618", 6),
    (1.0, "+4690", 6),
    (1.5, "+4613", 6),
    (1.0, "+46500", 5),
    (3.0, "+46771", 6),
    (1.0, "+46200", 6),
    (0.4, "+46900", 5),
    (0.1, "+46939", 5),
    (1.5, "+474", 7),
    (1.0, "+4520", 6),
    (0.8, "+35840", 7),
    (0.1, "+3546", 6),
    (1.0, "+4915", 8),
    (0.8, "+346", 8),
    (0.6, "+336", 8),
    (0.5, "+393", 9),
    (0.4, "+4860", 7),
    (0.3, "+306", 9),
    (0.3, "+316", 8),
    (0.6, "+447", 9),
    (0.6, "+1", 10),
    (0.2, "+4179", 7),
    (0.2, "+668", 8),
    (0.15, "+905", 9),
    (0.15, "+9198", 8),
    (0.1, "+2348", 9),
)

_NUMBER_CUM = cumulative(k[0] for k in _NUMBER_KINDS)

_MOBILE_KIND_COUNT = 5  # first five kinds are Swedish mobile


def _random_number(rng: random.Random, mobile_only: bool = False) -> str:
    if mobile_only:
        _weight, prefix, digits = _NUMBER_KINDS[
            bisect_right(_NUMBER_CUM, rng.random() * _NUMBER_CUM[_MOBILE_KIND_COUNT - 1])
        ]
    else:
        _weight, prefix, digits = _NUMBER_KINDS[bisect_right(_NUMBER_CUM, rng.random() * _NUMBER_CUM[-1])]
    if prefix == "+1":  # North American numbers: believable area code, no leading 0/1
        area = rng.choice(("212", "415", "646", "312", "305", "702", "617"))
        return f"+1{area}{rng.randint(2_000_000, 9_999_999)}"
    first = rng.randint(1, 9)
    return f"{prefix}{first}{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"


def _pick_table(rng: random.Random, numbers: list[str], size: int = 256) -> list[str]:
    """Table of ``size`` entries where number i appears with Zipf-like frequency."""
    weights = [1.0 / (i + 1) ** 1.1 for i in range(len(numbers))]
    cum = cumulative(weights)
    total = cum[-1]
    return [numbers[bisect_right(cum, (j + 0.5) / size * total)] for j in range(size)]


class _Subscriber:
    """Per-subscription behaviour, drawn from a dedicated RNG so it is stable."""

    __slots__ = (
        "data_mult",
        "intensity",
        "p_mms",
        "p_sms",
        "p_voice",
        "rng",
        "sms_pick",
        "trip",
        "voice_pick",
    )

    def __init__(self, seed: int, msisdn: str, n_months: int) -> None:
        rng = random.Random(f"cdr:{seed}:{msisdn}")
        self.rng = rng
        r = rng.random()
        if r < 0.35:
            self.intensity = rng.uniform(0.25, 0.6)  # light
        elif r < 0.80:
            self.intensity = rng.uniform(0.75, 1.25)  # medium
        else:
            self.intensity = rng.uniform(1.6, 2.6)  # heavy
        voice = 0.30 * rng.uniform(0.6, 1.4)
        msg = 0.25 * rng.uniform(0.6, 1.4)
        data = 0.45 * rng.uniform(0.7, 1.3)
        total = voice + msg + data
        mms = msg * 0.04
        self.p_voice = voice / total
        self.p_sms = (voice + msg - mms) / total
        self.p_mms = (voice + msg) / total
        # Data appetite: lognormal around the plan median, heavier users use more.
        self.data_mult = math.exp(rng.gauss(0.0, 0.55)) * self.intensity**0.5

        contacts = [_random_number(rng) for _ in range(rng.randint(12, 30))]
        rng.shuffle(contacts)
        mobiles = [c for c in contacts if c.startswith("+467")] or [_random_number(rng, True)]
        self.voice_pick = _pick_table(rng, contacts)
        self.sms_pick = _pick_table(rng, mobiles)

        # ~10 % take one roaming trip: (month index, first day index, last day index,
        # country, local number prefix, digits after it).
        self.trip: tuple[int, int, int, str, str, int] | None = None
        if n_months and rng.random() < 0.10:
            month_idx = rng.randrange(n_months)
            length = rng.randint(3, 10)
            first_day = rng.randint(0, 27 - length)
            cum = cumulative(c[1] for c in _TRIP_COUNTRIES)
            country, _w, local, digits = _TRIP_COUNTRIES[bisect_right(cum, rng.random() * cum[-1])]
            self.trip = (
                month_idx,
                first_day,
                first_day + length - 1,
                country,
                local,
                digits,
            )


def _group_segments(
    customers: Iterable[dict[str, str]],
) -> dict[str, list[tuple[date, date | None, str]]]:
    """Mobile segments by msisdn, in first-seen order: (start, end or None, plan)."""
    groups: dict[str, list[tuple[date, date | None, str]]] = {}
    for row in customers:
        msisdn = row.get("msisdn", "")
        if not msisdn:
            continue
        start = parse_date(row.get("start_date", ""))
        if start is None:
            continue
        groups.setdefault(msisdn, []).append((start, parse_date(row.get("end_date", "")), row.get("plan", "")))
    return groups


def _runs_in_month(segments: list[tuple[date, date | None, str]], month: _Month) -> list[tuple[int, int, str]]:
    """Active slot ranges [lo, hi) of the segments within a month, non-overlapping."""
    runs: list[tuple[int, int, str]] = []
    for start, end, plan in sorted(segments, key=lambda s: s[0]):
        lo_day = max(start, month.first)
        hi_day = month.last if end is None else min(end, month.last)
        if hi_day < lo_day:
            continue
        lo = (lo_day - month.first).days * 24
        hi = ((hi_day - month.first).days + 1) * 24
        if runs and lo < runs[-1][1]:
            lo = runs[-1][1]
        if lo < hi:
            runs.append((lo, hi, plan))
    return runs


def active_subscription_months(customers: Iterable[dict[str, str]], *, months: int, today: date) -> int:
    """Number of (mobile subscription, usage month) pairs with at least one active day.

    With ``per_sub_per_month=N``, :func:`generate_cdrs` yields exactly ``N`` times this.
    """
    cal = [_month(f, last) for f, last in usage_months(today, months)]
    groups = _group_segments(customers)
    return sum(1 for segs in groups.values() for m in cal if _runs_in_month(segs, m))


def generate_cdrs(
    customers: list[dict[str, str]],
    *,
    months: int,
    today: date,
    seed: int = 1,
    per_sub_per_month: int | None = None,
) -> Iterator[tuple[str, ...]]:
    """Yield usage records for the mobile segments of ``customers``.

    Rows are tuples of strings in :data:`CDR_COLUMNS` order, grouped by subscription
    (msisdn, in first-seen order), then by month, ordered by time. Events fall only on
    days where a segment of the subscription is active, in the ``months`` usage months
    before ``today``'s month. By default a subscription-month averages ~100 events
    (light/medium/heavy users, fewer for partial months); with ``per_sub_per_month=N``
    every active subscription-month gets exactly ``N`` events. ``record_id`` is
    ``"{msisdn without +}-{yyyymm}-{seq:05d}"``, unique and stable for a given seed.
    """
    if per_sub_per_month is not None and per_sub_per_month < 0:
        raise ValueError("per_sub_per_month must be >= 0")
    cal = [_month(f, last) for f, last in usage_months(today, months)]
    groups = _group_segments(customers)
    data_table = _data_table()
    voice_table = _voice_table()
    return _generate(groups, cal, seed, per_sub_per_month, data_table, voice_table)


def _generate(
    groups: dict[str, list[tuple[date, date | None, str]]],
    cal: list[_Month],
    seed: int,
    exact: int | None,
    data_table: list[float],
    voice_table: list[str],
) -> Iterator[tuple[str, ...]]:
    """Each subscription's events, month by month: how many (``_month_volume``), when (``_timestamps``)
    and what (``_events``). Each subscription draws from its own RNG, always in this order."""
    n_months = len(cal)
    for msisdn, segments in groups.items():
        sub = _Subscriber(seed, msisdn, n_months)
        for month_idx, month in enumerate(cal):
            runs = _runs_in_month(segments, month)
            if not runs:
                continue
            masses = [month.mass(lo, hi) for lo, hi, _plan in runs]
            active_mass = sum(masses)
            if active_mass <= 0.0:
                continue
            n, scales = _month_volume(sub, month, runs, active_mass, exact)
            if n == 0:
                continue
            keys = _timestamps(sub.rng, month, runs, masses, active_mass, n)
            yield from _events(sub, msisdn, month, month_idx, runs, scales, keys, data_table, voice_table)


def _month_volume(
    sub: _Subscriber, month: _Month, runs: list[tuple[int, int, str]], active_mass: float, exact: int | None
) -> tuple[int, list[float]]:
    """The number of events in the month (~100 for a medium user over a whole month, or exactly ``exact``)
    and, per run, the scale of a data session so that the month's data lands near the plan's median."""
    rng = sub.rng
    month_jitter = rng.uniform(0.75, 1.25)
    if exact is not None:
        n = exact
    else:
        full = month.cum[-1]
        n = round(100.0 * sub.intensity * month_jitter * active_mass / full)
    # Data volume targets per run (bytes), spread over the expected data events.
    frac = active_mass / month.cum[-1]
    month_data = math.exp(rng.gauss(0.0, 0.35)) * sub.data_mult
    exp_data = max(n * (1.0 - sub.p_mms), 1.0)
    scales = [
        _PLAN_DATA_MEDIAN.get(plan, _DEFAULT_DATA_MEDIAN) * month_data * frac / exp_data for _lo, _hi, plan in runs
    ]
    return n, scales


def _timestamps(
    rng: random.Random,
    month: _Month,
    runs: list[tuple[int, int, str]],
    masses: list[float],
    active_mass: float,
    n: int,
) -> list[int]:
    """``n`` sorted event times as ``slot << 12 | second``: a slot (day*24+hour) by the hour-of-day weights
    within the active runs, and a uniform second in the hour."""
    cum = month.cum
    rnd = rng.random
    if len(runs) == 1:
        lo_slot, hi_slot = runs[0][0], runs[0][1]
        base = cum[lo_slot - 1] if lo_slot > 0 else 0.0
        # A hair below the run's mass so float rounding never lands on hi_slot.
        span = active_mass * (1.0 - 1e-9)
        keys = [
            (bisect_right(cum, base + rnd() * span, lo_slot, hi_slot) << 12) | int(rnd() * 3600.0) for _ in range(n)
        ]
    else:
        run_cum = cumulative(masses)
        keys = []
        for _ in range(n):
            u = rnd() * active_mass
            j = bisect_right(run_cum, u)
            if j >= len(runs):
                j = len(runs) - 1
            lo_slot, hi_slot = runs[j][0], runs[j][1]
            base = cum[lo_slot - 1] if lo_slot > 0 else 0.0
            u -= run_cum[j - 1] if j else 0.0
            slot = min(bisect_right(cum, base + u, lo_slot, hi_slot), hi_slot - 1)
            keys.append((slot << 12) | int(rnd() * 3600.0))
    keys.sort()
    return keys


def _trip_slots(trip: tuple[int, int, int, str, str, int] | None, month_idx: int) -> tuple[int, int, str, str, int]:
    """The slots [lo, hi) of a roaming trip in this month, its country, local prefix and number range."""
    if trip is not None and trip[0] == month_idx:
        return trip[1] * 24, (trip[2] + 1) * 24, trip[3], trip[4], 10 ** trip[5]
    return -1, -1, "", "", 1


def _events(
    sub: _Subscriber,
    msisdn: str,
    month: _Month,
    month_idx: int,
    runs: list[tuple[int, int, str]],
    scales: list[float],
    keys: list[int],
    data_table: list[float],
    voice_table: list[str],
) -> Iterator[tuple[str, ...]]:
    """The month's rows, one per time: a call, a message or a data session by the subscriber's mix (the hot
    loop: a few random bits and table look-ups per row)."""
    rng = sub.rng
    rnd = rng.random
    bits = rng.getrandbits
    p_voice, p_sms, p_mms = sub.p_voice, sub.p_sms, sub.p_mms
    voice_pick, sms_pick = sub.voice_pick, sub.sms_pick
    trip_lo, trip_hi, country, local_prefix, local_mod = _trip_slots(sub.trip, month_idx)
    prefix = month.prefix
    suffix = month.suffix
    seqs = _seq_strings(len(keys))
    head = msisdn[1:] + "-" + month.yyyymm + "-"
    run_idx = 0
    run_end = runs[0][1]
    scale = scales[0]
    for seq, key in enumerate(keys, 1):
        slot = key >> 12
        started = prefix[slot] + suffix[slot][key & 4095]
        abroad = trip_lo <= slot < trip_hi
        r = rnd()
        if r < p_voice:
            if abroad and bits(2) == 0:
                called = f"{local_prefix}{rng.randrange(local_mod // 10, local_mod)}"
            elif bits(3) == 0:
                called = _random_number(rng)
            else:
                called = voice_pick[bits(8)]
            yield (
                head + seqs[seq],
                msisdn,
                "voice",
                started,
                voice_table[bits(12)],
                "",
                called,
                country if abroad else "",
            )
        elif r < p_mms:
            called = sms_pick[bits(8)] if bits(4) else _random_number(rng, True)
            kind = "sms" if r < p_sms else "mms"
            yield (head + seqs[seq], msisdn, kind, started, "", "", called, country if abroad else "")
        else:
            while slot >= run_end and run_idx + 1 < len(runs):
                run_idx += 1
                run_end = runs[run_idx][1]
                scale = scales[run_idx]
            vol = int(data_table[bits(16)] * scale) + bits(10)
            if vol < _MIN_SESSION:
                vol = _MIN_SESSION + bits(12)
            elif vol > _MAX_SESSION:
                vol = _MAX_SESSION - bits(20)
            yield (head + seqs[seq], msisdn, "data", started, "", str(vol), "", country if abroad else "")

"""The CPU's float32 peak, from what the machine says about itself.

peak GMAC/s = cores x FMA units per core x fp32 lanes per FMA x clock (GHz); one FMA is one
multiply-accumulate, the unit the catalogue counts networks in. The lanes follow the widest
vector ISA in /proc/cpuinfo's flags (avx512f: 16, avx2 with fma: 8, otherwise 4: SSE/NEON); the
FMA units per core are not visible to software and are *assumed* 2 (true for Intel server cores
since Skylake-SP gold parts and for AMD Zen 2+; some parts have 1, which would halve the peak).
The clock is the largest of /proc/cpuinfo's "cpu MHz" and cpufreq's cpuinfo_max_freq.
"""

from __future__ import annotations

import os
import platform
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FMA_UNITS_ASSUMED = 2
MAX_FREQ = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")


@dataclass(frozen=True)
class Peak:
    cpu: str
    isa: str
    lanes: int
    fma_units: int
    cores: int
    ghz: float
    clock_source: str

    @property
    def gmacs(self) -> float:
        return self.cores * self.fma_units * self.lanes * self.ghz

    def formula(self) -> str:
        return (f"{self.cores} cores x {self.fma_units} FMA units/core (assumed) x {self.lanes} fp32 lanes "
                f"({self.isa}) x {self.ghz:.3f} GHz ({self.clock_source}) = {self.gmacs:.1f} GMAC/s")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "gmacs_per_s": round(self.gmacs, 3), "formula": self.formula()}


def _field(text: str, key: str) -> str | None:
    m = re.search(rf"^{re.escape(key)}\s*:\s*(.+)$", text, re.MULTILINE)
    return m.group(1).strip() if m else None


def isa_lanes(flags: set[str]) -> tuple[str, int]:
    """The widest fp32 FMA vector the flags admit, and its lanes."""
    if "avx512f" in flags:
        return "AVX-512F", 16
    if "avx2" in flags and "fma" in flags:
        return "AVX2+FMA", 8
    if "asimd" in flags or "neon" in flags:
        return "NEON", 4
    return "SSE (no FMA vector flag found)", 4


def clock_ghz(cpuinfo: str, max_freq_khz: str | None) -> tuple[float, str]:
    """The highest clock the machine reports: cpufreq's maximum (kHz) or the largest "cpu MHz"."""
    mhz = [float(v) for v in re.findall(r"^cpu MHz\s*:\s*([\d.]+)", cpuinfo, re.MULTILINE)]
    candidates: list[tuple[float, str]] = []
    if mhz:
        candidates.append((max(mhz) / 1000, "/proc/cpuinfo cpu MHz"))
    if max_freq_khz and max_freq_khz.strip().isdigit():
        candidates.append((int(max_freq_khz) / 1e6, "cpufreq cpuinfo_max_freq"))
    if not candidates:
        return 2.0, "unknown: 2.0 GHz assumed"
    return max(candidates)


def detect(cpuinfo: str | None = None, cores: int | None = None, max_freq_khz: str | None = None) -> Peak:
    """The peak of this machine; the arguments replace what would be read (tests pass fakes)."""
    if cpuinfo is None:
        cpuinfo = _read(Path("/proc/cpuinfo")) or ""
        max_freq_khz = _read(MAX_FREQ)
    flags = set((_field(cpuinfo, "flags") or _field(cpuinfo, "Features") or "").split())
    isa, lanes = isa_lanes(flags)
    ghz, source = clock_ghz(cpuinfo, max_freq_khz)
    cpu = _field(cpuinfo, "model name") or platform.processor() or platform.machine()
    return Peak(cpu, isa, lanes, FMA_UNITS_ASSUMED, cores or os.cpu_count() or 1, ghz, source)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None

"""make mutation --sample N --seed S: each area's score estimated from a uniform random sample of its
mutants (a fixed-size random sample estimates a score whatever the program's size: 385 mutants give
±5 points at 95 %, 1,000 give ±3.1).

Every mutant of an area is enumerated first (mutmut's made, none run; ours and the declarative ones
listed), ordered by name, and N are drawn without replacement by random.Random(S), the same N for
the same code and seed; an area of at most N mutants is judged whole. The interval is Wilson's score
interval, which stays inside 0-100 % and keeps its coverage near a score of 100 %, where the normal
approximation does not.
"""

from __future__ import annotations

import json
import math
import random
import re
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from local_stack.cloudformation.template import PROJECT_ROOT
from tools.mutation import code
from tools.mutation.changed_functions import mutmut_functions, mutmut_key
from tools.mutation.code_operators import DeclarationMutant, declaration_mutants
from tools.mutation.declarative import Mutant, mutants
from tools.mutation.judging import Outcome, matches

AREAS = ("functions", "domain", "local stack", "declarative")
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Candidate:
    """One mutant of an area, before it is judged."""

    area: str
    key: str  # as survivors.toml lists it
    mutant: str | DeclarationMutant | Mutant  # mutmut's name, or the mutant itself
    target: str = ""  # the Python target whose copy mutmut judges it in

    @property
    def name(self) -> str:
        """What orders the population: mutmut's name, or the key (unique for ours)."""
        return self.mutant if isinstance(self.mutant, str) else self.key


def python_population(python: Path) -> list[Candidate]:
    """Every Python mutant: mutmut's made in each target's kept copy (`generate`: no test runs), and
    our declaration mutants."""
    found = []
    for target in code.targets(PROJECT_ROOT):
        copy = code.kept_copy(target)
        code.prepare(copy, target)
        if code.mutmut(python, copy, "generate") != 0:
            raise RuntimeError(f"mutmut could not make the mutants in {copy}:\n{(copy / 'mutmut.log').read_text()}")
        for _, file, linked in code.module_files(target):
            meta = copy / "mutants" / f"{linked}.meta"
            if meta.is_file():
                functions = mutmut_functions((copy / "mutants" / linked).read_text())
                for name in json.loads(meta.read_text())["exit_code_by_key"]:
                    found.append(Candidate(code.area(file), mutmut_key(file, functions, name), name, target.name))
            for mutant in declaration_mutants(file, (PROJECT_ROOT / file).read_text()):
                found.append(Candidate(code.area(file), mutant.key, mutant, target.name))
    return found


def declarative_population() -> list[Candidate]:
    return [Candidate(mutant.area, mutant.key, mutant) for mutant in mutants(PROJECT_ROOT)]


def draw(population: Iterable[Candidate], size: int, seed: int) -> dict[str, list[Candidate]]:
    """Each area's sample: `size` of its mutants drawn without replacement, or all of them."""
    by_area: dict[str, list[Candidate]] = {}
    for candidate in population:
        by_area.setdefault(candidate.area, []).append(candidate)
    drawn = {}
    for area, found in by_area.items():
        ordered = sorted(found, key=lambda candidate: candidate.name)
        drawn[area] = ordered if size >= len(ordered) else random.Random(seed).sample(ordered, size)
    return drawn


def select(population: list[Candidate], match: str) -> list[Candidate]:
    return [c for c in population if not match or matches(match, c.key, getattr(c.mutant, "operator", "mutmut"))]


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """The 95 % Wilson score interval of a proportion."""
    if trials == 0:
        return 0.0, 1.0
    share = successes / trials
    spread = Z_95 * math.sqrt(share * (1 - share) / trials + Z_95**2 / (4 * trials**2))
    centre = share + Z_95**2 / (2 * trials)
    scale = 1 + Z_95**2 / trials
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


def report(sizes: dict[str, int], outcomes: list[Outcome], justified: dict[str, str], seed: int) -> int:
    """Per area: the population, the mutants judged, killed, justified (listed in survivors.toml) and
    survived, the score (killed or justified) with its 95 % interval, the median seconds a mutant
    took; then every survivor. 1 when a survivor is not justified."""
    print(f"\nseed {seed}; score = (killed + justified) / judged, 95 % Wilson interval")
    header = ("area", "mutants", "judged", "killed", "justified", "survived", "invalid", "score", "95 % interval", "s")
    print("{:<12} {:>7} {:>6} {:>6} {:>9} {:>8} {:>7} {:>6} {:>13} {:>6}".format(*header))
    unjustified = []
    for area in AREAS:
        found = [o for o in outcomes if o.area == area]
        if area not in sizes:
            continue
        invalid = sum(o.verdict == "invalid" for o in found)
        judged = [o for o in found if o.verdict != "invalid"]
        killed = sum(o.verdict.startswith("killed") for o in judged)
        survivors = [o for o in judged if not o.verdict.startswith("killed")]
        listed = sum(o.key in justified for o in survivors)
        unjustified += [o for o in survivors if o.key not in justified]
        low, high = wilson(killed + listed, len(judged))
        score = (killed + listed) / len(judged) if judged else 0.0
        median = statistics.median(o.seconds for o in judged) if judged else 0.0
        print(
            f"{area:<12} {sizes[area]:>7} {len(judged):>6} {killed:>6} {listed:>9} {len(survivors) - listed:>8} "
            f"{invalid:>7} {score:>6.1%} {f'{low:.1%}-{high:.1%}':>13} {median:>6.1f}"
        )
    for outcome in sorted(unjustified, key=lambda o: (o.area, o.key)):
        print(f"SURVIVED ({outcome.area}): {outcome.key} [{outcome.operator}] {outcome.verdict}")
        if outcome.change:
            print("    " + outcome.change.replace("\n", "\n    "))
    return 1 if unjustified else 0


def stale(listed: Iterable[str], population: list[Candidate], enumerated: Callable[[str], bool]) -> list[str]:
    """Keys of survivors.toml, of the parts enumerated, that no mutant has any longer."""
    keys = {candidate.key for candidate in population}
    return sorted(key for key in listed if enumerated(key) and key not in keys)


def prune(survivors: Path, keys: list[str]) -> None:
    """Removes the entries of these keys from survivors.toml (one entry a line), keeping the rest as
    written."""
    if not keys:
        return
    pattern = re.compile(r'^\s*\{ key = "(' + "|".join(map(re.escape, keys)) + r')",.*\n', re.MULTILINE)
    survivors.write_text(pattern.sub("", survivors.read_text()))
    for key in keys:
        print(f"pruned from {survivors.name} (no mutant has this key any longer): {key}")

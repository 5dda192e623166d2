"""A discrete Bayesian network: structure and tables learnt with pgmpy, inference in NumPy.

The structure is searched with pgmpy's hill climbing under the BIC score; each variable's table of
P(variable | parents) is estimated with a Dirichlet pseudo-count so that combinations never seen in training
keep a small probability. The learnt tables are then kept as plain arrays of log-probabilities: a posterior is
the normalised product of the tables at the observed values, summing out unobserved variables by enumeration
(those with no observed descendant are dropped first, as they sum to one). The recommender observes every
variable but the target, so the common case is one vectorised gather per table.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Most joint states of hidden variables summed out for one posterior; more says evidence is missing.
MAX_HIDDEN_STATES = 1_000_000


@dataclass
class DiscreteNetwork:
    """Variables, their states, parents (indexes) and log-probability tables (axes: variable, *parents)."""

    variables: list[str]
    states: list[list[str]]
    parents: list[list[int]]
    tables: list[FloatArray]

    @classmethod
    def learn(
        cls,
        columns: Mapping[str, Sequence[str]],
        *,
        units: Mapping[str, Sequence[str]] | None = None,
        required: Sequence[tuple[str, str]] = (),
        forbidden: Sequence[tuple[str, str]] = (),
        max_indegree: int | None = None,
        pseudo_count: float = 0.5,
        states: Mapping[str, Sequence[str]] | None = None,
    ) -> DiscreteNetwork:
        """Learn structure (hill climbing, BIC) and tables (Dirichlet ``pseudo_count``) from labelled columns.

        ``units`` holds variables measured once per unit (a customer) and repeated on each of the unit's rows
        of ``columns``, one row per unit: their scores and tables are computed there, so the repetition does
        not count as evidence, and they take parents only among themselves. ``states`` adds values a variable
        can take beyond those in the data (a target nobody chose).
        """
        # pgmpy and pandas take seconds to import: only training pays for them.
        import pandas as pd
        from pgmpy.causal_discovery import ExpertKnowledge, HillClimbSearch
        from pgmpy.models import DiscreteBayesianNetwork
        from pgmpy.parameter_estimator import DiscreteBayesianEstimator
        from pgmpy.structure_score import BIC

        names = list(columns)
        unit_names = [n for n in names if n in (units or {})]
        extra = states or {}
        state_names = [sorted({*columns[n], *(units or {}).get(n, ()), *extra.get(n, ())}) for n in names]
        # Variables are numbered for pgmpy: the search visits candidate edges in a set's order, and sets of
        # integer pairs keep one order from run to run where sets of strings do not, so ties break alike.
        position = {name: k for k, name in enumerate(names)}
        frame = pd.DataFrame({k: list(columns[n]) for k, n in enumerate(names)}, dtype=object)
        per_unit = pd.DataFrame({position[n]: list((units or {})[n]) for n in unit_names}, dtype=object)
        inside = {position[n] for n in unit_names}

        class TwoLevelBIC(BIC):  # type: ignore[misc]  # pgmpy has no type hints
            """BIC of unit variables on the table of units, of the others on the table of rows."""

            def __init__(self) -> None:
                super().__init__(frame)
                self.units = BIC(per_unit) if len(per_unit.columns) else None

            def local_score(self, variable: int, parents: tuple[int, ...]) -> float:
                if variable in inside and self.units is not None:
                    return float(self.units.local_score(variable, parents))
                return float(super().local_score(variable, parents))

        into_units = [(o, u) for u in inside for o in range(len(names)) if o not in inside]
        knowledge = ExpertKnowledge(
            required_edges=[(position[a], position[b]) for a, b in required],
            forbidden_edges=[(position[a], position[b]) for a, b in forbidden] + into_units,
        )
        search = HillClimbSearch(scoring_method=TwoLevelBIC(), return_type="dag", max_indegree=max_indegree,
                                 expert_knowledge=knowledge, show_progress=False)  # fmt: skip
        dag = search.fit(frame).causal_graph_
        cpds: dict[int, Any] = {}
        for table, variables in ((frame, range(len(names))), (per_unit, sorted(inside))):
            if not len(table.columns):
                continue
            model = DiscreteBayesianNetwork([(a, b) for a, b in dag.edges() if b in variables])
            model.add_nodes_from(table.columns)
            model.fit(
                table,
                estimator=DiscreteBayesianEstimator(
                    state_names={v: state_names[v] for v in table.columns},
                    prior_type="dirichlet",
                    pseudo_counts=pseudo_count,
                ),
            )
            cpds |= {v: model.get_cpds(v) for v in variables}
        parents: list[list[int]] = []
        tables: list[FloatArray] = []
        for v in range(len(names)):
            cpd = cpds[v]
            values = np.asarray(cpd.values, dtype=np.float64)
            for axis, var in enumerate(cpd.variables):
                order = [list(cpd.state_names[var]).index(s) for s in state_names[var]]
                values = np.take(values, order, axis=axis)
            parents.append([int(p) for p in cpd.variables[1:]])
            tables.append(np.log(values))
        return cls(names, state_names, parents, tables)

    # -- inference --------------------------------------------------------------------------------
    def index(self, name: str) -> int:
        """Position of variable ``name``."""
        return self.variables.index(name)

    def children(self, v: int) -> list[int]:
        """Variables that have ``v`` as a parent."""
        return [c for c, pa in enumerate(self.parents) if v in pa]

    def edges(self) -> list[tuple[str, str]]:
        """Learnt edges (parent, child), sorted."""
        return sorted((self.variables[p], self.variables[c]) for c, pa in enumerate(self.parents) for p in pa)

    def markov_blanket(self, v: int) -> set[int]:
        """Parents, children and the children's other parents of ``v``: all that its posterior depends on."""
        blanket = set(self.parents[v])
        for c in self.children(v):
            blanket |= {c, *self.parents[c]}
        blanket.discard(v)
        return blanket

    def conditional(self, target: int, observed: Sequence[int]) -> FloatArray:
        """The table P(``target`` | ``observed``), axes (target, *observed), every other variable summed out.

        One ``einsum`` over all the tables; meant for a few observed variables, as the table holds every
        combination of their values.
        """
        if len(self.variables) > 52:
            raise ValueError(f"{len(self.variables)} variables are more than conditional() handles (52)")
        operands: list[Any] = []
        for v, table in enumerate(self.tables):
            operands += [np.exp(table), [v, *self.parents[v]]]
        out = [target, *observed]
        joint = np.einsum(*operands, out, optimize="greedy")
        total = joint.sum(axis=0, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(np.where(total > 0, joint / total, 0.0), dtype=np.float64)

    def log_joint(self, codes: IntArray, keep: Sequence[int] | None = None) -> FloatArray:
        """Sum of log-tables at fully given ``codes`` (rows × variables), over the tables of ``keep``."""
        total = np.zeros(len(codes))
        for v in range(len(self.variables)) if keep is None else keep:
            total += self.tables[v][(codes[:, v], *(codes[:, p] for p in self.parents[v]))]
        return total

    def posterior(self, codes: IntArray, target: int, value: int) -> FloatArray:
        """P(``target`` = ``value`` | the other variables) per row of ``codes`` (-1: unobserved)."""
        codes = np.asarray(codes, dtype=np.int64)
        out = np.empty(len(codes))
        if codes.shape[1] > 62:
            raise ValueError(f"{codes.shape[1]} variables are more than posterior() handles (62)")
        hidden = codes < 0
        hidden[:, target] = False
        # Rows are grouped by which variables they lack, each pattern packed into one integer.
        packed = hidden.astype(np.int64) @ (np.int64(1) << np.arange(hidden.shape[1], dtype=np.int64))
        for pattern in np.unique(packed).tolist():
            rows = np.flatnonzero(packed == pattern)
            lacking = [v for v in range(hidden.shape[1]) if pattern >> v & 1]
            out[rows] = self._posterior_block(codes[rows], target, value, lacking)
        return out

    def _posterior_block(self, codes: IntArray, target: int, value: int, hidden: list[int]) -> FloatArray:
        keep = self._relevant(target, hidden)
        hidden = [h for h in hidden if h in keep]
        sizes = [len(self.states[h]) for h in hidden]
        n_target = len(self.states[target])
        if int(np.prod(sizes, dtype=np.int64)) * n_target > MAX_HIDDEN_STATES:
            raise ValueError(
                f"too many unobserved variables to sum out ({', '.join(self.variables[h] for h in hidden)}): "
                "give more of the evidence"
            )
        joint = list(itertools.product(*(range(s) for s in sizes)))
        combos = np.array(joint, dtype=np.int64).reshape(len(joint), len(hidden))
        n, m = len(codes), len(combos)
        scores = np.empty((n, n_target))
        for t in range(n_target):
            filled = np.repeat(codes, m, axis=0)
            filled[:, target] = t
            if hidden:
                filled[:, hidden] = np.tile(combos, (n, 1))
            scores[:, t] = _logsumexp(self.log_joint(filled, keep).reshape(n, m))
        scores -= scores.max(axis=1, keepdims=True)
        weights = np.exp(scores)
        return np.asarray(weights[:, value] / weights.sum(axis=1), dtype=np.float64)

    def _relevant(self, target: int, hidden: list[int]) -> list[int]:
        """Variables whose tables matter: hidden ones without an observed descendant sum to one."""
        dropped: set[int] = set()
        changed = True
        while changed:
            changed = False
            for h in hidden:
                if h not in dropped and h != target and all(c in dropped for c in self.children(h)):
                    dropped.add(h)
                    changed = True
        return [v for v in range(len(self.variables)) if v not in dropped]

    # -- artefacts --------------------------------------------------------------------------------
    def to_arrays(self) -> tuple[dict[str, Any], FloatArray]:
        """A JSON-able description and the tables' values, flattened end to end."""
        meta = {
            "variables": self.variables,
            "states": self.states,
            "parents": self.parents,
            "shapes": [list(t.shape) for t in self.tables],
        }
        flat = np.concatenate([t.ravel() for t in self.tables]) if self.tables else np.empty(0)
        return meta, flat

    @classmethod
    def from_arrays(cls, meta: Mapping[str, Any], flat: FloatArray) -> DiscreteNetwork:
        """The network that :meth:`to_arrays` described."""
        tables: list[FloatArray] = []
        start = 0
        for shape in meta["shapes"]:
            size = int(np.prod(shape, dtype=np.int64))
            tables.append(np.asarray(flat[start : start + size], dtype=np.float64).reshape(shape))
            start += size
        return cls(list(meta["variables"]), [list(s) for s in meta["states"]],
                   [list(p) for p in meta["parents"]], tables)  # fmt: skip


def _logsumexp(x: FloatArray) -> FloatArray:
    top = x.max(axis=1, keepdims=True)
    return np.asarray(top.ravel() + np.log(np.exp(x - top).sum(axis=1)), dtype=np.float64)

"""Documented special cases of linear_cross_entropy's chunked path, judged on the road.

``options=LinearCrossEntropyOptions(...)`` opts into the chunked path, which "must not
change the documented value": cross_entropy of ``input @ linear_weight.T``. The bulk regime
draws chunks of 64-256 rows (to keep the CI run short); here a batch of 4097 rows goes in
one-row chunks, so that 4097 chunk partial sums are added: every term is log 3 (zero
logits), the exact 'sum' 4097 ln 3 = 4501.01 and the 'mean' ln 3. In bfloat16 torch adds
the partials in bfloat16 and the sum stagnates at 512 (registered:
linear-cross-entropy-bfloat16-chunk-sums-stagnate); float16, float32 and float64 must pass.
"""

from __future__ import annotations

import numpy as np
import pytest

from suites.case import explicit_case
from suites.selection import for_specs
from suites.special import roads as _roads

linear_ce = for_specs(lambda spec: spec.name == "LinearCrossEntropyLoss[class_index]")
ROWS = 4097
STAGNATION = "linear-cross-entropy-bfloat16-chunk-sums-stagnate"


@linear_ce
@pytest.mark.parametrize("reduction", ("sum", "mean"))
def test_many_one_row_chunks(spec_combo, selection, reduction, recorder, request):
    dtype = spec_combo[1]
    inputs = {
        "input": np.zeros((ROWS, 2)),
        "target": np.zeros(ROWS, dtype=np.int64),
        "linear_weight": np.zeros((3, 2)),
    }
    settings = {"acc_policy": "auto", "chunking_method": None, "batch_chunk_size": 1}
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        options = {"options": settings, "reduction": reduction}
        case = explicit_case(road.spec, road.dtype, road.api, inputs, options)
        result = road.check_forward(case, kind="special")
        road.assert_ok(result)
        if dtype == "bfloat16":
            assert "chunked_partials_in_dtype" in case.features
            assert result.verdict == "known" and result.known == [STAGNATION], result
        else:
            assert result.verdict == "pass", result.comparison.message
        road.conclude()

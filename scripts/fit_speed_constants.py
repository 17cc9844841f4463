"""Fit the expected-speed constants and write data/speed_constants.csv (lesson 7, 07_choosing_a_tier).

transformers and vLLM are fitted on Qwen's Qwen2.5 speed table alone (data/speed_benchmark_qwen25.csv); the Qwen2
and Qwen3 tables (data/speed_benchmark_generations.csv) only judge. tests/test_speed_expected.py refits and checks
that the stored constants are what this script writes. Usage: python scripts/fit_speed_constants.py
"""

from __future__ import annotations

import pandas as pd

from qwen_lessons import data, real_llama_cpp, speed

SOURCE = {
    "transformers": "scripts/fit_speed_constants.py: non-negative least squares on the relative time error of every "
                    "transformers row of Qwen's Qwen2.5 table (transformers 4.46.0, AutoGPTQ 0.7.1, AutoAWQ 0.2.6)",
    "vllm": "scripts/fit_speed_constants.py: non-negative least squares on the relative time error of every vLLM row "
            "of Qwen's Qwen2.5 table (vLLM 0.6.3)",
    "llama.cpp": "scripts/fit_speed_constants.py: non-negative least squares on the relative decode-step time of the "
                 "fit rows of data/llama_cpp_speed.csv (llama-cpp-python 0.3.36, one CPU thread)",
}


def main() -> None:
    frames = []
    for runtime in ("transformers", "vllm"):
        table = speed.fit_speed_constants(runtime)
        table["source"] = SOURCE[runtime]
        frames.append(table)
    local = real_llama_cpp.fit_local_constants()  # llama.cpp: fitted on the fit rows of data/llama_cpp_speed.csv
    local["source"] = SOURCE["llama.cpp"]
    frames.append(local)

    out = pd.concat(frames, ignore_index=True)
    out["value"] = out["value"].map(lambda value: float(f"{value:.12g}"))
    out.to_csv(data.data_path(speed.CONSTANTS_FILE), index=False, lineterminator="\n")
    print(out.to_string(index=False))


if __name__ == "__main__":
    main()

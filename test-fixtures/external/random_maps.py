#!/usr/bin/env python3
"""A trivial external `attribute` stage: uniform random saliency maps, in the documented schema.

An example of replacing a stage of the sal pipeline by another program (docs/artifacts.md,
"The stage command line"). With, in the config,

    [external]
    attribute = ["python3", "random_maps.py", "REFERENCE/saliency.safetensors"]

the pipeline runs, in the config file's folder,

    python3 random_maps.py REFERENCE --config FILE --out DIR --data DIR --train DIR

and this script writes DIR/saliency.safetensors (`saliency/1`): for the same explained images as
REFERENCE, a map of independent uniform(-1, 1) values per method, drawn from a fixed seed, so the
same inputs give the same bytes. Random maps are what the paper's metrics should score like the
random baseline.

The explained images and the model's predictions (`image_index`, `label`, `predicted`,
`confidence`, `logit`, `deep_shap.background_index`) are copied from REFERENCE, a saliency file
of the same model: a script this short cannot run the network, and the metrics stage checks
`predicted` against the model. Only the Python standard library is used.
"""

import argparse
import json
import os
import random
import struct
import sys

SCHEMA = "saliency/1"
SEED = 20200207
CREATED_BY = "random_maps.py 1"
COPIED = ["image_index", "label", "predicted", "confidence", "logit", "deep_shap.background_index"]
ITEM_SIZE = {"U8": 1, "U32": 4, "F32": 4}


def read_safetensors(path):
    """(header without __metadata__, metadata dict, data bytes) of a safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        sys.exit(f"random_maps.py: {path} is not a safetensors file (only {len(raw)} bytes)")
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])
    metadata = header.pop("__metadata__", {})
    return header, metadata, raw[8 + size :]


def write_safetensors(path, tensors, metadata):
    """Writes {name: (dtype, shape, bytes)} atomically (temporary file, then rename)."""
    header = {"__metadata__": metadata}
    offset = 0
    for name in sorted(tensors):
        dtype, shape, data = tensors[name]
        count = 1
        for dim in shape:
            count *= dim
        if len(data) != count * ITEM_SIZE[dtype]:
            sys.exit(f"random_maps.py: tensor {name}: {len(data)} bytes for shape {shape} {dtype}")
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in sorted(tensors):
            f.write(tensors[name][2])
    os.replace(tmp, path)


def input_key(folder):
    """The cache key of a stage folder (its key.json), as `inputs` records it."""
    with open(os.path.join(folder, "key.json")) as f:
        return json.load(f)["key"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", help="a saliency.safetensors of the same model and images")
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--train", required=True)
    args = parser.parse_args()

    header, metadata, data = read_safetensors(args.reference)
    reference = json.loads(metadata["sal"])
    if reference.get("schema") != SCHEMA:
        sys.exit(f"random_maps.py: {args.reference} has schema {reference.get('schema')}, not {SCHEMA}")
    tensors = {}
    for name in COPIED:
        if name not in header:
            continue
        info = header[name]
        start, end = info["data_offsets"]
        tensors[name] = (info["dtype"], info["shape"], data[start:end])
    count = header["image_index"]["shape"][0]
    methods = reference["methods"]

    rng = random.Random(SEED)
    for method in methods:
        values = [rng.uniform(-1.0, 1.0) for _ in range(count * 32 * 32)]
        tensors["saliency." + method] = ("F32", [count, 32, 32], struct.pack(f"<{len(values)}f", *values))

    meta = {
        "schema": SCHEMA,
        "stage": "attribute",
        "config": {"external": "random_maps.py", "seed": SEED, "reference": os.path.basename(args.reference)},
        "inputs": {"data": input_key(args.data), "train": input_key(args.train)},
        "created_by": CREATED_BY,
        "methods": methods,
        "methods_detail": {m: {"rule": "uniform(-1, 1) noise", "seed": SEED} for m in methods},
        "explained": "nothing: independent uniform(-1, 1) noise per pixel (a random baseline)",
        "class_names": reference.get("class_names", []),
    }
    canonical = json.dumps(meta, sort_keys=True, separators=(",", ":"))
    os.makedirs(args.out, exist_ok=True)
    write_safetensors(os.path.join(args.out, "saliency.safetensors"), tensors, {"sal": canonical})


if __name__ == "__main__":
    main()

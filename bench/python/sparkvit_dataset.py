"""A sparkvit dataset read from Python: its manifest and its stored images, as the product reads them.

A dataset folder is an Apache Iceberg table on a folder (Hadoop tables): DIR/metadata/v<N>.metadata.json (the
current N in DIR/metadata/version-hint.text) and Parquet data files under DIR/data/. Each `sparkvit ingest` commits
one snapshot whose summary carries `sparkvit.manifest` (the run's figures: classes, counts, channel_mean,
channel_std, stored_size, ...; also the table property of the same name) and whose Avro manifests list the data files
of the table as of that commit. Rows have a `kind` column ("image", "quarantine", "duplicate"); stored images are the
rows of kind "image". Files under DIR/data/ that no snapshot references (a failed write's orphans, an older snapshot's
files) are not part of the dataset, so the data files are read from the current snapshot, never globbed.

    read_manifest(dataset_dir) -> dict             the figures of the current snapshot
    data_files(dataset_dir) -> [path]              its Parquet data files (local paths)
    read_images(dataset_dir, columns) -> pyarrow.Table   its stored images (needs pyarrow)

Errors about the folder (not a dataset, an earlier sparkvit's folder format, nothing committed yet, unreadable
metadata) are DatasetError, one line naming the folder. Standard library only, except read_images (pyarrow).
`python3 sparkvit_dataset.py [--check] DATASET_DIR` prints the manifest and the data files; --check also compares the
stored images with the manifest (count, per class and split counts, label indices) and exits 1 when they disagree.
"""

import io
import json
import os
import re
import struct
import sys
import zlib
from urllib.parse import unquote, urlparse

MANIFEST = "sparkvit.manifest"  # DatasetTable.MANIFEST
KIND, IMAGE = "kind", "image"  # DatasetTable.KIND, DatasetTable.IMAGE


class DatasetError(ValueError):
    """A folder that is not a readable sparkvit dataset; the message is one line naming it."""


def table_metadata(dataset_dir):
    """The current table metadata (parsed v<N>.metadata.json) of the dataset at dataset_dir."""
    meta = os.path.join(dataset_dir, "metadata")
    if not os.path.isdir(meta):
        if os.path.isfile(os.path.join(dataset_dir, "manifest.json")):
            raise DatasetError(f"{dataset_dir} is in the folder format of an earlier sparkvit; migrate it once into "
                               f"a table with: sparkvit migrate --dataset {dataset_dir}")
        raise DatasetError(f"{dataset_dir} is not a dataset: it has no dataset table (metadata/); run sparkvit "
                           f"ingest on an image folder first")
    version = None
    hint = os.path.join(meta, "version-hint.text")
    if os.path.isfile(hint):
        with open(hint) as f:
            text = f.read().strip()
        if text.isdigit() and os.path.isfile(os.path.join(meta, f"v{text}.metadata.json")):
            version = int(text)
    if version is None:  # no hint or an unusable one: the highest version, as Iceberg's HadoopTableOperations
        versions = [int(m.group(1)) for m in map(re.compile(r"v(\d+)\.metadata\.json$").match, os.listdir(meta)) if m]
        if not versions:
            raise DatasetError(f"{dataset_dir} is not a dataset: {meta} has no v<N>.metadata.json")
        version = max(versions)
    while os.path.isfile(os.path.join(meta, f"v{version + 1}.metadata.json")):  # a hint behind a commit, as Iceberg
        version += 1
    path = os.path.join(meta, f"v{version}.metadata.json")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise DatasetError(f"{dataset_dir}: cannot read its table metadata {path}: {e}") from None


def current_snapshot(dataset_dir, metadata=None):
    """The current snapshot (a dict of the table metadata) of the dataset at dataset_dir."""
    metadata = metadata or table_metadata(dataset_dir)
    sid = metadata.get("current-snapshot-id", -1)
    for s in metadata.get("snapshots", []) if sid is not None and sid >= 0 else []:
        if s["snapshot-id"] == sid:
            return s
    raise DatasetError(f"{dataset_dir} is not a dataset yet: no ingest has committed to its table (run sparkvit "
                       f"ingest first)")


def read_manifest(dataset_dir):
    """The manifest (a dict: classes, counts, channel_mean, channel_std, stored_size, ...) of the current snapshot."""
    metadata = table_metadata(dataset_dir)
    snapshot = current_snapshot(dataset_dir, metadata)
    text = snapshot.get("summary", {}).get(MANIFEST, metadata.get("properties", {}).get(MANIFEST))
    if text is None:
        raise DatasetError(f"{dataset_dir}: its table has no {MANIFEST} (not a sparkvit dataset table)")
    try:
        manifest = json.loads(text)
    except ValueError as e:
        raise DatasetError(f"{dataset_dir}: {MANIFEST} of its table is not JSON: {e}") from None
    if not isinstance(manifest, dict):
        raise DatasetError(f"{dataset_dir}: {MANIFEST} of its table is not a JSON object: {text[:80]}")
    return manifest


def data_files(dataset_dir):
    """Local paths of the Parquet data files of the current snapshot, sorted (live entries of its data manifests)."""
    metadata = table_metadata(dataset_dir)
    snapshot = current_snapshot(dataset_dir, metadata)
    relocate = _relocator(dataset_dir, metadata.get("location", ""))
    files = []
    for m in read_avro(relocate(snapshot["manifest-list"])):
        if m.get("content", 0) != 0:  # delete manifests: sparkvit's commits never write any
            raise DatasetError(f"{dataset_dir}: its current snapshot has delete files, which this reader does not "
                               f"apply ({m['manifest_path']})")
        for entry in read_avro(relocate(m["manifest_path"])):
            if entry["status"] == 2:  # DELETED by this snapshot
                continue
            f = entry["data_file"]
            if f.get("content", 0) != 0 or f.get("file_format", "PARQUET").upper() != "PARQUET":
                raise DatasetError(f"{dataset_dir}: unexpected data file {f['file_path']} (content "
                                   f"{f.get('content')}, format {f.get('file_format')})")
            files.append(relocate(f["file_path"]))
    return sorted(files)


def read_images(dataset_dir, columns):
    """The stored images (rows of kind "image") of the current snapshot, with `columns`, as a pyarrow Table."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    parts = []
    for f in data_files(dataset_dir):
        t = pq.read_table(f, columns=[KIND] + list(columns))
        parts.append(t.filter(pc.equal(t.column(KIND), IMAGE)).select(list(columns)))
    if not parts:
        raise DatasetError(f"{dataset_dir}: its current snapshot has no data files")
    return pa.concat_tables(parts)


def _relocator(dataset_dir, location):
    """file: URI or path in the metadata -> local path; one under the table's location is taken under dataset_dir,
    so that a copied or moved dataset folder reads its own files, not those of the folder it was written to."""
    location = _local(location).rstrip("/")

    def local(uri):
        path = _local(uri)
        if location and path.startswith(location + "/"):
            path = os.path.join(dataset_dir, path[len(location) + 1:])
        return path
    return local


def _local(uri):
    u = urlparse(uri)
    if u.scheme in ("", "file"):
        return unquote(u.path) if u.scheme else uri
    raise DatasetError(f"{uri}: only local datasets can be read from Python (scheme {u.scheme}:)")


# ---- Avro object container files (the manifest list and manifests), the subset Iceberg writes


def read_avro(path):
    """The records of an Avro object container file, as dicts."""
    with open(path, "rb") as f:
        data = f.read()
    r = io.BytesIO(data)
    if r.read(4) != b"Obj\x01":
        raise DatasetError(f"{path} is not an Avro file")
    meta = _Decoder(r).read({"type": "map", "values": "bytes"}, {})
    sync = r.read(16)
    schema = json.loads(meta["avro.schema"])
    codec = meta.get("avro.codec", b"null").decode()
    if codec not in ("null", "deflate"):
        raise DatasetError(f"{path}: Avro codec {codec} is not supported (null and deflate are)")
    names = {}
    _register(schema, names)
    records = []
    while r.tell() < len(data):
        d = _Decoder(r)
        count, size = d.long(), d.long()
        block = r.read(size)
        if codec == "deflate":
            block = zlib.decompress(block, -15)
        if r.read(16) != sync:
            raise DatasetError(f"{path}: corrupt Avro block (sync marker)")
        bd = _Decoder(io.BytesIO(block))
        records += [bd.read(schema, names) for _ in range(count)]
    return records


def _register(schema, names):
    """Named types (records, enums, fixed) by name and full name, for later references."""
    if isinstance(schema, list):
        for s in schema:
            _register(s, names)
    elif isinstance(schema, dict):
        if schema["type"] in ("record", "enum", "fixed"):
            names[schema["name"]] = schema
            if schema.get("namespace"):
                names[schema["namespace"] + "." + schema["name"]] = schema
        for f in schema.get("fields", []):
            _register(f["type"], names)
        for key in ("items", "values"):
            if key in schema:
                _register(schema[key], names)


class _Decoder:
    def __init__(self, stream):
        self.s = stream

    def long(self):
        shift = n = 0
        while True:
            b = self.s.read(1)
            if not b:
                raise EOFError("truncated Avro data")
            n |= (b[0] & 0x7F) << shift
            shift += 7
            if not b[0] & 0x80:
                return (n >> 1) ^ -(n & 1)

    def _blocks(self, read_item):
        out = []
        while True:
            n = self.long()
            if n == 0:
                return out
            if n < 0:
                n = -n
                self.long()  # block size in bytes
            out += [read_item() for _ in range(n)]

    def read(self, schema, names):
        if isinstance(schema, list):
            return self.read(schema[self.long()], names)
        if isinstance(schema, str):
            t, schema = schema, None
            if t in names:
                schema = names[t]
                t = schema["type"]
        else:
            t = schema["type"]
            if isinstance(t, (list, dict)) or (isinstance(t, str) and t in names):
                return self.read(t, names)
        if t == "null":
            return None
        if t == "boolean":
            return self.s.read(1) == b"\x01"
        if t in ("int", "long"):
            return self.long()
        if t == "float":
            return struct.unpack("<f", self.s.read(4))[0]
        if t == "double":
            return struct.unpack("<d", self.s.read(8))[0]
        if t == "bytes":
            return self.s.read(self.long())
        if t == "string":
            return self.s.read(self.long()).decode("utf-8")
        if t == "fixed":
            return self.s.read(schema["size"])
        if t == "enum":
            return schema["symbols"][self.long()]
        if t == "array":
            return self._blocks(lambda: self.read(schema["items"], names))
        if t == "map":
            return dict(self._blocks(lambda: (self.read("string", names), self.read(schema["values"], names))))
        if t == "record":
            return {f["name"]: self.read(f["type"], names) for f in schema["fields"]}
        raise DatasetError(f"Avro type {t} is not supported")


def check(dataset_dir):
    """Self-check on a real dataset: the stored images read through the snapshot agree with its manifest (image
    count, per class and split counts, label_index = position in classes). Returns the list of disagreements."""
    manifest = read_manifest(dataset_dir)
    rows = read_images(dataset_dir, ["id", "label", "label_index", "split"]).to_pylist()
    problems = []
    if len(rows) != manifest.get("images"):
        problems.append(f"{len(rows)} stored images, manifest images {manifest.get('images')}")
    if len({r["id"] for r in rows}) != len(rows):
        problems.append("an image id is stored twice")
    counts = {}
    for r in rows:
        by_split = counts.setdefault(r["label"], {})
        by_split[r["split"]] = by_split.get(r["split"], 0) + 1
    expected = {c: {s: n for s, n in by.items() if n} for c, by in (manifest.get("counts") or {}).items()}
    if counts != {c: by for c, by in expected.items() if by}:
        problems.append(f"counts {counts}, manifest counts {manifest.get('counts')}")
    classes = manifest.get("classes") or []
    wrong = [r["id"] for r in rows if r["label"] is not None
             and (r["label_index"] >= len(classes) or classes[r["label_index"]] != r["label"])]
    if wrong:
        problems.append(f"{len(wrong)} images whose label_index does not name their label in classes, e.g. {wrong[0]}")
    return problems


def main(argv):
    args = [a for a in argv if a != "--check"]
    if len(args) != 1:
        print("usage: sparkvit_dataset.py [--check] DATASET_DIR", file=sys.stderr)
        return 2
    try:
        manifest, files = read_manifest(args[0]), data_files(args[0])
        problems = check(args[0]) if "--check" in argv else []
    except DatasetError as e:
        print(f"sparkvit_dataset: {e}", file=sys.stderr)
        return 2
    print(json.dumps({"manifest": manifest, "data_files": files}, indent=1))
    for p in problems:
        print(f"sparkvit_dataset: check failed: {p}", file=sys.stderr)
    if "--check" in argv and not problems:
        print(f"check: the {manifest.get('images')} stored images of the current snapshot agree with the manifest")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

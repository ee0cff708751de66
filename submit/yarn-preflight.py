#!/usr/bin/env python3
"""YARN side of submit/spark-submit.sh: finds the ResourceManager the way Spark's YARN client would, and checks
that the containers Spark 3.1 will ask for can be granted. Used by spark-submit.sh for --master yarn; not meant to
be run by hand (harmless: it only reads configuration files and, with --query, GETs the RM's REST API).

    yarn-preflight.py --mode client|cluster --instances N --executor-cores C [--executor-memory M] [--query]
                      -- SPARK_ARGS...

SPARK_ARGS are the spark-submit options the launcher passes on (--conf K=V, --driver-memory, --driver-cores,
--properties-file, ...). Prints on stdout, one per line:
    rm=HOST:PORT          the ResourceManager's RPC address (the first, under HA)
    loopback=0|1          1 when every RM address is on loopback (a test cluster on this machine)
Notes go to stderr. Exit 0, or 2 with ONE line on stderr when the request can never be granted: BigDL sets
spark.scheduler.minRegisteredResourcesRatio=1.0 and maxRegisteredResourcesWaitingTime=3600s, so such a request
would otherwise wait an hour without a word. An RM that does not answer (or answers something unexpected) is a
note, and the launcher goes on.

What Spark 3.1 asks for (org.apache.spark.deploy.yarn.Client and YarnAllocator):
    executor: spark.executor.memory (1g) + spark.executor.memoryOverhead (max(384 MiB, 0.10 x memory))
              + spark.memory.offHeap.size when spark.memory.offHeap.enabled; spark.executor.cores vcores
    AM:       client mode spark.yarn.am.memory (512m) + spark.yarn.am.memoryOverhead (max(384, 0.10 x)),
              spark.yarn.am.cores (1); cluster mode the driver: spark.driver.memory (1g) +
              spark.driver.memoryOverhead (max(384, 0.10 x)), spark.driver.cores (1)
and YARN rounds each container up to a multiple of the scheduler's minimum allocation (the fair scheduler: of its
increment allocation), and to at least the minimum.
"""
import json
import os
import re
import socket
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree

PROG = "spark-submit.sh"
LONG_MAX = 2**63 - 1
TIMEOUT = float(os.environ.get("SPARKVIT_YARN_TIMEOUT", "3"))  # seconds per REST call


def note(message):
    print(f"{PROG}: note: {message}", file=sys.stderr)


def refuse(message):
    print(f"{PROG}: ERROR: {message}", file=sys.stderr)
    sys.exit(2)


# ---- Spark's side: the properties the submission will have ----
UNITS = {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def byte_string(value, default_unit):
    """Spark's JavaUtils.byteStringAs: whole number and optional unit (k, kb, m, ...); -> bytes, or ValueError."""
    m = re.fullmatch(r"\s*([0-9]+)\s*([kmgtp]b?|b)?\s*", value.lower())
    if not m:
        raise ValueError(value)
    unit = (m.group(2) or default_unit)[0]
    return int(m.group(1)) * UNITS[unit]


def mib(value, default_unit="m"):
    """A memory property as whole MiB, rounded down as Spark's ByteUnit conversion does."""
    return byte_string(value, default_unit) // UNITS["m"]


def read_properties(path):
    """A spark-defaults.conf style file: 'key value' or 'key=value' lines, '#' comments."""
    props = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                m = re.match(r"([^\s=:]+)\s*[=:\s]\s*(.*)$", line)
                if m:
                    props[m.group(1)] = m.group(2).strip()
    except OSError:
        pass
    return props


def spark_conf_dir():
    """SPARK_CONF_DIR, else SPARK_HOME/conf, else nothing (never a folder relative to the working directory)."""
    if os.environ.get("SPARK_CONF_DIR"):
        return os.environ["SPARK_CONF_DIR"]
    return os.path.join(os.environ["SPARK_HOME"], "conf") if os.environ.get("SPARK_HOME") else None


def spark_properties(spark_args):
    """spark-submit's precedence: properties file (--properties-file, else SPARK_CONF_DIR/spark-defaults.conf),
    then --conf, then the explicit options (--driver-memory, ...), which win."""
    confs, flags, props_file = {}, {}, None
    flag_keys = {"--driver-memory": "spark.driver.memory", "--driver-cores": "spark.driver.cores",
                 "--queue": "spark.yarn.queue", "--executor-memory": "spark.executor.memory"}
    i = 0
    while i < len(spark_args):
        arg = spark_args[i]
        name, eq, inline = arg.partition("=")
        if name in ("--conf", "-c") or name in flag_keys or name == "--properties-file":
            if eq:
                value = inline
            elif i + 1 < len(spark_args):
                i += 1
                value = spark_args[i]
            else:
                value = ""
            if name in ("--conf", "-c"):
                key, _, val = value.partition("=")
                confs[key] = val
            elif name == "--properties-file":
                props_file = value
            else:
                flags[flag_keys[name]] = value
        i += 1
    if props_file is None:
        conf_dir = spark_conf_dir()
        props_file = os.path.join(conf_dir, "spark-defaults.conf") if conf_dir else ""
    props = read_properties(props_file)
    props.update(confs)
    props.update(flags)
    return props


# ---- Hadoop's side: the client configuration Spark's YarnConfiguration loads ----
HADOOP_DEFAULTS = {
    "yarn.resourcemanager.hostname": "0.0.0.0",
    "yarn.resourcemanager.address": "${yarn.resourcemanager.hostname}:8032",
    "yarn.resourcemanager.webapp.address": "${yarn.resourcemanager.hostname}:8088",
    "yarn.resourcemanager.webapp.https.address": "${yarn.resourcemanager.hostname}:8090",
    "yarn.http.policy": "HTTP_ONLY",
    "yarn.resourcemanager.ha.enabled": "false",
    "yarn.scheduler.minimum-allocation-mb": "1024",
    "yarn.scheduler.minimum-allocation-vcores": "1",
    "yarn.scheduler.maximum-allocation-mb": "8192",
    "yarn.scheduler.maximum-allocation-vcores": "4",
}
DEFAULT_PORTS = {"yarn.resourcemanager.address": 8032, "yarn.resourcemanager.webapp.address": 8088,
                 "yarn.resourcemanager.webapp.https.address": 8090}


def conf_dirs():
    """Where Spark's launcher puts Hadoop configuration on the classpath, in order (the first file found wins):
    SPARK_CONF_DIR, HADOOP_CONF_DIR, YARN_CONF_DIR."""
    dirs = [spark_conf_dir()] + [os.environ.get(v) for v in ("HADOOP_CONF_DIR", "YARN_CONF_DIR")]
    return [d for d in dirs if d]


def find_site(name):
    for d in conf_dirs():
        path = os.path.join(d, name)
        if os.path.isfile(path):
            return path
    return None


def read_site(path, conf):
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError) as e:
        note(f"cannot read {path} ({e}); ignored")
        return
    for prop in root.iter("property"):
        name, value = prop.findtext("name"), prop.findtext("value")
        if name is not None and value is not None:
            conf[name.strip()] = value.strip()


class HadoopConf:
    def __init__(self, spark_props):
        self.values = dict(HADOOP_DEFAULTS)
        self.files = []
        for site in ("core-site.xml", "yarn-site.xml"):
            path = find_site(site)
            if path:
                self.files.append(path)
                read_site(path, self.values)
        for key, value in spark_props.items():  # spark.hadoop.* reach the Hadoop configuration
            if key.startswith("spark.hadoop."):
                self.values[key[len("spark.hadoop."):]] = value

    def get(self, key, default=None):
        value = self.values.get(key, default)
        for _ in range(20):  # Hadoop's ${var} substitution (bounded, as Configuration's)
            if value is None or "${" not in value:
                break
            value = re.sub(r"\$\{([^}$]+)\}",
                           lambda m: self.values.get(m.group(1), os.environ.get(m.group(1)[4:], "")
                                                     if m.group(1).startswith("env.") else m.group(0)), value)
        return value

    def rm_address(self, key, rm_id=None):
        """HAUtil's rule: key.<rm-id>, else yarn.resourcemanager.hostname.<rm-id> and the key's default port."""
        if rm_id is None:
            return self.get(key)
        value = self.get(f"{key}.{rm_id}")
        if value:
            return value
        host = self.get(f"yarn.resourcemanager.hostname.{rm_id}")
        return f"{host}:{DEFAULT_PORTS[key]}" if host else None

    def rm_ids(self):
        if self.get("yarn.resourcemanager.ha.enabled", "false").lower() == "true":
            ids = [i.strip() for i in (self.get("yarn.resourcemanager.ha.rm-ids") or "").split(",") if i.strip()]
            if ids:
                return ids
        return [None]


def is_loopback(host):
    host = host.strip("[]")
    if host in ("localhost", "::1") or re.fullmatch(r"127\.\d+\.\d+\.\d+", host):
        return True
    if host in ("", "0.0.0.0", "::"):
        return False
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(a.startswith("127.") or a == "::1" for a in addresses)


# ---- the REST API ----
def get_json(url):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the RM is on the cluster's network
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with opener.open(request, timeout=TIMEOUT) as response:
        return json.loads(response.read().decode("utf-8"))


def walk(value):
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def scheduler_allocations(scheduler):
    """The scheduler's minimum and maximum allocation as the RM reports them: the resource types' limits in
    /ws/v1/cluster/scheduler (Hadoop 3: resourceInformation entries named memory-mb and vcores)."""
    found = {}
    for d in walk(scheduler):
        name = d.get("name")
        if name in ("memory-mb", "vcores") and isinstance(d.get("maximumAllocation"), int) \
                and 0 < d["maximumAllocation"] < LONG_MAX and name not in found:
            found[name] = (int(d.get("minimumAllocation") or 0), int(d["maximumAllocation"]))
    return found


def round_up(value, step):
    return value if step <= 0 else -(-value // step) * step


def fits(nodes, am, executor, count):
    """How many executors fit beside the AM: the AM tried on each node, executors packed into what is left.
    Exact for one AM and identical executors. nodes: (memory, vcores) pairs; count vcores only when the
    scheduler does (index 1 of am/executor is None otherwise)."""
    def room(mem, cores, size):
        n = mem // size[0]
        if size[1] is not None:
            n = min(n, cores // size[1]) if size[1] > 0 else n
        return max(n, 0)
    best = -1
    for i, (mem, cores) in enumerate(nodes):
        if room(mem, cores, am) < 1:
            continue
        total = 0
        for j, (m2, c2) in enumerate(nodes):
            if j == i:
                m2 -= am[0]
                c2 -= am[1] or 0
            total += room(m2, c2, executor)
        best = max(best, min(total, count))
    return best  # -1: the AM fits on no node


def main(argv):
    args = {"--mode": "client", "--instances": "1", "--executor-cores": "1", "--executor-memory": ""}
    query = False
    while argv and argv[0] != "--":
        if argv[0] == "--query":
            query = True
            argv = argv[1:]
        elif argv[0] in args and len(argv) >= 2:
            args[argv[0]] = argv[1]
            argv = argv[2:]
        else:
            raise SystemExit(f"{PROG}: yarn-preflight.py: bad argument {argv[0]}")
    spark_args = argv[1:]

    props = spark_properties(spark_args)
    hadoop = HadoopConf(props)
    rm_ids = hadoop.rm_ids()
    rpc = [hadoop.rm_address("yarn.resourcemanager.address", i) for i in rm_ids]
    rpc = [a for a in rpc if a]
    loopback = bool(rpc) and all(is_loopback(a.rsplit(":", 1)[0]) for a in rpc)
    print(f"rm={rpc[0] if rpc else ''}")
    print(f"loopback={1 if loopback else 0}")
    sys.stdout.flush()
    if not query:
        return 0

    # ---- the request ----
    cluster = args["--mode"] == "cluster"
    try:
        ex_mem = mib(args["--executor-memory"] or props.get("spark.executor.memory")
                     or os.environ.get("SPARK_EXECUTOR_MEMORY") or "1g")
        ex_over = (mib(props["spark.executor.memoryOverhead"]) if props.get("spark.executor.memoryOverhead")
                   else max(int(0.10 * ex_mem), 384))
        off_heap = 0
        if props.get("spark.memory.offHeap.enabled", "false").strip().lower() == "true":
            off_heap = byte_string(props.get("spark.memory.offHeap.size", "0"), "b") // UNITS["m"]
        if cluster:
            am_what = "the driver (cluster mode)"
            am_mem = mib(props.get("spark.driver.memory") or os.environ.get("SPARK_DRIVER_MEMORY") or "1g")
            am_over_key, am_cores_key = "spark.driver.memoryOverhead", "spark.driver.cores"
        else:
            am_what = "the application master (client mode)"
            am_mem = mib(props.get("spark.yarn.am.memory") or "512m")
            am_over_key, am_cores_key = "spark.yarn.am.memoryOverhead", "spark.yarn.am.cores"
        am_over = mib(props[am_over_key]) if props.get(am_over_key) else max(int(0.10 * am_mem), 384)
        am_cores = int(props.get(am_cores_key) or 1)
        ex_cores = int(args["--executor-cores"])
        count = int(args["--instances"])
    except ValueError as e:
        note(f"cannot read a memory or core setting ({e}); YARN capacity not checked")
        return 0

    # ---- the cluster ----
    https = (hadoop.get("yarn.http.policy") or "").upper() == "HTTPS_ONLY"
    key = "yarn.resourcemanager.webapp.https.address" if https else "yarn.resourcemanager.webapp.address"
    where = (", ".join(hadoop.files) if hadoop.files
             else "no yarn-site.xml found in SPARK_CONF_DIR, HADOOP_CONF_DIR, YARN_CONF_DIR")
    nodes_json = scheduler_json = base = None
    errors = []
    for rm_id in rm_ids:
        address = hadoop.rm_address(key, rm_id)
        if not address:
            continue
        if address.startswith("0.0.0.0:"):  # Hadoop connects to a wildcard address on this host
            address = "127.0.0.1:" + address.split(":", 1)[1]
        url = ("https://" if https else "http://") + address
        try:
            nodes_json = get_json(url + "/ws/v1/cluster/nodes")
            base = url
            break
        except (OSError, ValueError, urllib.error.URLError) as e:
            errors.append(f"{url}: {getattr(e, 'reason', None) or e}")
    if base is None:
        note(f"no answer from the ResourceManager's REST API ({'; '.join(errors) or 'no address'}; from {where}); "
             "YARN capacity not checked")
        return 0
    try:
        scheduler_json = get_json(base + "/ws/v1/cluster/scheduler")
    except (OSError, ValueError, urllib.error.URLError):
        scheduler_json = {}

    try:
        node_list = (nodes_json.get("nodes") or {}).get("node") or []
        running = [n for n in node_list if n.get("state") == "RUNNING"]
        total = [(int(n.get("usedMemoryMB", 0)) + int(n.get("availMemoryMB", 0)),
                  int(n.get("usedVirtualCores", 0)) + int(n.get("availableVirtualCores", 0))) for n in running]
        free = [(int(n.get("availMemoryMB", 0)), int(n.get("availableVirtualCores", 0))) for n in running]
    except (AttributeError, TypeError, ValueError) as e:
        note(f"unexpected answer from {base}/ws/v1/cluster/nodes ({e}); YARN capacity not checked")
        return 0
    allocations = scheduler_allocations(scheduler_json)
    min_mb, max_mb = allocations.get("memory-mb") or (int(hadoop.get("yarn.scheduler.minimum-allocation-mb")),
                                                      int(hadoop.get("yarn.scheduler.maximum-allocation-mb")))
    min_vc, max_vc = allocations.get("vcores") or (int(hadoop.get("yarn.scheduler.minimum-allocation-vcores")),
                                                   int(hadoop.get("yarn.scheduler.maximum-allocation-vcores")))
    limits_from = "the RM's scheduler" if "memory-mb" in allocations else "yarn-site.xml (or YARN's defaults)"
    scheduler_type = ((scheduler_json.get("scheduler") or {}).get("schedulerInfo") or {}).get("type", "")
    # Whether the scheduler packs by vcores too: the fair scheduler does; the capacity scheduler only with the
    # DominantResourceCalculator (capacity-scheduler.xml); with its default calculator (and FIFO) memory alone.
    counts_vcores = scheduler_type == "fairScheduler"
    if scheduler_type == "capacityScheduler":
        capacity_conf = {}
        path = find_site("capacity-scheduler.xml")
        if path:
            read_site(path, capacity_conf)
        counts_vcores = "Dominant" in capacity_conf.get("yarn.scheduler.capacity.resource-calculator", "")

    ex_req = ex_mem + ex_over + off_heap
    # YARN normalizes a request: at least the minimum allocation, rounded up to a multiple of the step, which is
    # the minimum allocation (capacity scheduler) or the increment allocation (fair scheduler; yarn-site.xml)
    step_mb, step_vc = min_mb, min_vc
    if scheduler_type == "fairScheduler":
        step_mb = int(hadoop.get("yarn.resource-types.memory-mb.increment-allocation")
                      or hadoop.get("yarn.scheduler.increment-allocation-mb") or 1024)
        step_vc = int(hadoop.get("yarn.resource-types.vcores.increment-allocation")
                      or hadoop.get("yarn.scheduler.increment-allocation-vcores") or 1)
    ex_size = round_up(max(ex_req, min_mb), step_mb)
    am_size = round_up(max(am_mem + am_over, min_mb), step_mb)
    ex_vc = round_up(max(ex_cores, min_vc), step_vc) if counts_vcores else ex_cores
    am_vc = round_up(max(am_cores, min_vc), step_vc) if counts_vcores else am_cores
    off = f" + {off_heap}m off-heap" if off_heap else ""
    rounded = f", rounded up to a multiple of {step_mb} MiB"
    ex_desc = (f"{count} executor(s) of {ex_size} MiB ({ex_mem}m + {ex_over}m overhead{off}"
               f"{rounded if ex_size != ex_req else ''}), {ex_cores} vcore(s) each")
    am_desc = (f"{am_what} {am_size} MiB ({am_mem}m + {am_over}m overhead"
               f"{rounded if am_size != am_mem + am_over else ''}), {am_cores} vcore(s)")
    wait = "BigDL would wait up to an hour (spark.scheduler.maxRegisteredResourcesWaitingTime)"

    # each container against the maximum allocation: the RM refuses a bigger request in any resource (vcores too,
    # whatever its calculator), and caps the configured maximum by its largest running node (SchedulerUtils)
    largest = (max((m for m, _ in total), default=0), max((c for _, c in total), default=0))
    cap_mb, cap_vc = (min(max_mb, largest[0]), min(max_vc, largest[1])) if running else (max_mb, max_vc)
    for what, size, vc in (("the application master" if not cluster else "the driver", am_mem + am_over, am_cores),
                           ("each executor", ex_req, ex_cores)):
        if size > cap_mb or vc > cap_vc:
            refuse(f"YARN cannot grant {what}: {size} MiB and {vc} vcore(s) requested ({am_desc}; {ex_desc}), "
                   f"but the largest container the ResourceManager at {base} allows is {cap_mb} MiB and {cap_vc} "
                   f"vcore(s) (maximum allocation {max_mb} MiB and {max_vc} vcores from {limits_from}"
                   f"{f', largest running node {largest[0]} MiB and {largest[1]} vcores' if running else ''}). "
                   "Ask for smaller containers.")
    # all of them on the running nodes
    mem_total = sum(m for m, _ in total)
    cores_total = sum(c for _, c in total)
    cluster_desc = (f"the ResourceManager at {base} has {len(running)} running NodeManager(s) with {mem_total} MiB "
                    f"and {cores_total} vcores in all (largest node {largest[0]} MiB, {largest[1]} vcores)")
    if not running:
        others = len(node_list)
        refuse(f"YARN cannot grant this request, {am_desc} + {ex_desc}: {cluster_desc}"
               f"{f' ({others} in other states)' if others else ''}; {wait}. Start NodeManagers first.")
    am_key = (am_size, am_vc if counts_vcores else None)
    ex_key = (ex_size, ex_vc if counts_vcores else None)
    n_all = fits(total, am_key, ex_key, count)
    if n_all < count:
        room = ("not even the application master fits on a node" if n_all < 0
                else f"room for the application master and only {n_all} of the {count} executor(s)")
        refuse(f"YARN cannot grant this request, {am_desc} + {ex_desc} = {am_size + count * ex_size} MiB and "
               f"{am_vc + count * ex_vc} vcores in all: {cluster_desc}, {room}; {wait}. "
               "Ask for fewer or smaller executors (or a smaller driver), or add nodes.")
    if not counts_vcores and fits(total, (am_size, am_vc), (ex_size, ex_vc), count) < count:
        note(f"the vcores of {ex_desc} and the AM do not fit on the running nodes ({cores_total} vcores); the "
             f"{scheduler_type or 'scheduler'} schedules by memory only here, so this is not a limit")
    n_free = fits(free, am_key, ex_key, count)
    if n_free < count:
        now = (f"in what is free on YARN now ({sum(m for m, _ in free)} MiB free of {mem_total}); the job waits for "
               "running applications to release resources")
        if n_free < 0:
            note(f"not even the application master fits {now}")
        else:
            note(f"only {n_free} of the {count} executor(s) fit beside the application master {now}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as e:  # a surprise in a configuration file or an answer must not stop the submission
        note(f"the YARN pre-flight failed ({type(e).__name__}: {e}); YARN capacity not checked")
        sys.exit(0)

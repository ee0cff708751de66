# Spark standalone cluster on this machine, for `include submit/cluster.mk` in the Makefile (docs/CLUSTER.md).
#   make cluster-up       install the Spark 3.1.3 distribution if needed, start a master and two workers on loopback
#   make cluster-status   daemons, ports and what the master sees
#   make cluster-down     stop them
# Knobs: the SPARKVIT_* variables of submit/standalone.sh (ports, workers, cores and memory per worker).
.PHONY: spark-dist cluster-up cluster-down cluster-status

spark-dist:
	@submit/spark-dist.sh >/dev/null

cluster-up: spark-dist
	@submit/standalone.sh up

cluster-down:
	@submit/standalone.sh down

cluster-status:
	@submit/standalone.sh status

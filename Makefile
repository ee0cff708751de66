# sparkvit: the README's two commands are `make demo` and `make test`; each does all set-up itself.
SHELL := /bin/bash
.DEFAULT_GOAL := help

MVN ?= mvn
MVN_FLAGS ?= -B -ntp -Dstyle.color=never
# A Java 17 JDK (installed with apt-get when missing and run as root); see submit/prereqs.sh.
JAVA_HOME := $(shell submit/prereqs.sh)
ifeq ($(strip $(JAVA_HOME)),)
  $(error no Java 17 JDK: see the message of submit/prereqs.sh above)
endif
export JAVA_HOME
export PATH := $(JAVA_HOME)/bin:$(PATH)

.PHONY: help bootstrap build test launcher-test demo parity clean resume-check config-doc bench reliability \
	reliability-doc k8s-check cluster-test \
	security-doc

help:
	@echo "make demo   generate the embedded dataset, ingest it, SimCLR-pretrain a ViT, print probe accuracy"
	@echo "make test   build and run the whole test suite (Maven, then make launcher-test and the doc checks)"
	@echo "make launcher-test   dry-run tests of submit/spark-submit.sh: local, standalone, YARN, Kubernetes (needs make build)"
	@echo "make build  compile and package (spark-jobs/target/sparkvit.jar)"
	@echo "make parity regenerate the PyTorch/timm parity fixtures and check both directions (downloads CPU torch)"
	@echo "make clean  remove build output and out/"
	@echo "make cluster-up / cluster-down / cluster-status   a standalone Spark cluster on loopback (docs/CLUSTER.md)"
	@echo "make bench  every benchmark side by side with PyTorch/torchvision/PIL -> bench/results.json, docs/BENCHMARKS.md (~1 hour)"
	@echo "make config-doc   regenerate the key tables of docs/CONFIG.md from the config readers"
	@echo "make security-doc   regenerate the dependency inventory of docs/SECURITY.md from the build (needs make build)"
	@echo "make resume-check   kill a pretraining driver with SIGKILL, resume it, compare with an uninterrupted run"
	@echo "make reliability    the slow reliability tests (@Reliability: real processes racing and killed, a real cluster; docs/RELIABILITY.md)"
	@echo "make cluster-test   sparkvit on a real mini YARN cluster with HDFS and an S3 server on loopback, through submit/spark-submit.sh (docs/CLUSTER.md; CLUSTER_TEST=Name runs one class)"
	@echo "make reliability-doc   regenerate the summary table of docs/RELIABILITY.md from its sections"
	@echo "make k8s-check  submit to a real kube-apiserver + etcd on loopback, check the driver pod against conf/cluster/kubernetes.yaml (by hand; builds kube-apiserver once, docs/CLUSTER.md)"

# bootstrap also installs the optional native image libraries (libjpeg-turbo, libdeflate) when root; ingest works
# without them.
bootstrap:
	@submit/bootstrap.sh
	@submit/codecs.sh

build: bootstrap
	$(MVN) $(MVN_FLAGS) -DskipTests package

# verify packages spark-jobs/target/sparkvit.jar and classpath.txt, which the launcher's dry runs read.
test: bootstrap
	$(MVN) $(MVN_FLAGS) verify
	tools/launcher-test.sh
	python3 tools/dependency-inventory.py --check docs/SECURITY.md
	python3 tools/reliability-summary.py --check docs/RELIABILITY.md
	python3 tools/docs-check.py

# No cluster, no network beyond loopback, no Spark download: SPARK_HOME is a stand-in (tools/launcher-test.sh).
launcher-test:
	tools/launcher-test.sh

demo: build
	submit/sparkvit demo

resume-check: build
	tools/resume-check.sh

# The slow reliability tests: JUnit classes or methods annotated @Reliability (tag "reliability"), which `make test`
# leaves out. RELIABILITY_TEST=Name runs one of them. Built first: the kill tests run submit/sparkvit and
# submit/spark-submit.sh, which use spark-jobs/target/sparkvit.jar; ExecutorKillTest installs the Spark distribution
# (submit/spark-dist.sh) when it is missing and starts its own standalone cluster on free ports.
# The cluster tests (make cluster-test) are part of it: a second Maven run, with -Pcluster.
reliability: build spark-dist
	$(MVN) $(MVN_FLAGS) -pl spark-jobs -am verify -Dgroups=reliability -Dsparkvit.excludedGroups= \
		-Dsurefire.failIfNoSpecifiedTests=false $(if $(RELIABILITY_TEST),-Dtest=$(RELIABILITY_TEST))
	$(MVN) $(MVN_FLAGS) -Pcluster -pl cluster-test -am verify -Dsurefire.failIfNoSpecifiedTests=false \
		-Dtest='$(or $(RELIABILITY_TEST),$(CLUSTER_TESTS))'

# A real mini YARN cluster with HDFS (tools/cluster/mini-hadoop.sh) and an S3 server (tools/cluster/s3-server.sh) on
# loopback with free ports, started and stopped by each test class of cluster-test/ (Maven profile -Pcluster, never
# built by make test); sparkvit runs on them through submit/spark-submit.sh. Builds the product jar (the reactor's
# spark-jobs package) and installs the Spark distribution with S3A first. CLUSTER_TEST=Name[#method] runs one.
CLUSTER_TESTS := ClusterIngestTest,ClusterTrainingTest,ClusterFailureTest
cluster-test: bootstrap spark-dist
	$(MVN) $(MVN_FLAGS) -Pcluster -pl cluster-test -am verify -Dsurefire.failIfNoSpecifiedTests=false \
		-Dtest='$(or $(CLUSTER_TEST),$(CLUSTER_TESTS))'

include submit/cluster.mk

# By hand, never part of `make test`: a real kube-apiserver (built once from the Go module proxy into
# ~/.cache/sparkvit/k8s, needs Go) with etcd on loopback; submits through submit/spark-submit.sh and checks the
# driver pod it creates against the profile, and RBAC (tools/k8s-check/k8s-check.sh; docs/CLUSTER.md).
K8S_PROFILE ?= conf/cluster/kubernetes.yaml
k8s-check: build spark-dist
	tools/k8s-check/k8s-check.sh $(K8S_PROFILE)

# Reference side of the numerical parity tests: run by hand, never by `make test`. PyPI's torch wheel pulls its
# CUDA libraries too (about 3 GB) even though only the CPU is used.
PYREF ?= $(HOME)/.cache/sparkvit/pyref
parity: bootstrap
	python3 -m venv $(PYREF)
	$(PYREF)/bin/pip install -q -r tools/parity/requirements.txt
	$(PYREF)/bin/python tools/parity/make_vit_fixtures.py
	$(MVN) $(MVN_FLAGS) -pl model -am verify -Dtest=PyTorchParityTest -Dsurefire.failIfNoSpecifiedTests=false
	$(PYREF)/bin/python tools/parity/check_sparkvit_export.py

clean:
	$(MVN) $(MVN_FLAGS) -q clean
	rm -rf out

# docs/CONFIG.md's generated part, from the config readers and conf/ (ConfigReferenceTest fails when it is stale).
config-doc: bootstrap
	$(MVN) $(MVN_FLAGS) -q -pl spark-jobs -am verify -Dtest=ConfigReferenceTest -Dsurefire.failIfNoSpecifiedTests=false \
		-Dsparkvit.writeDocs=true

# docs/RELIABILITY.md's summary table, from the fault tables of its sections (make test checks it).
reliability-doc:
	python3 tools/reliability-summary.py --write docs/RELIABILITY.md

# docs/SECURITY.md's dependency inventory, from spark-jobs/target/classpath.txt and the jars (make test checks it).
security-doc:
	python3 tools/dependency-inventory.py --write docs/SECURITY.md

# Benchmarks (docs/BENCHMARKS.md): not part of make test. BENCH_QUICK=1 checks the pipeline in a few minutes.
bench: build
	bench/run.sh

# env.sh: source this for running erase-mpi with mpirun on a workstation or as root in CI.
# Open MPI refuses root without these; more ranks than cores needs oversubscription.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
export OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
# Open MPI probes the PSM and PSM2 MTLs (True Scale / Omni-Path) and libfabric's at every
# MPI_Init: 0.2 s of each launch on a node without such hardware (measured: MPI_Init + Finalize
# 0.35 -> 0.15 s on 2 ranks). Where no fabric device exists and the MTL choice is not yours
# already, they are skipped; shared memory and TCP (ob1) are what such a node uses anyway.
if [ -z "${OMPI_MCA_mtl:-}" ] && ! ls -d /dev/hfi1* /dev/ipath* /dev/infiniband /sys/class/cxi \
  >/dev/null 2>&1; then
  export OMPI_MCA_mtl='^ofi,psm,psm2'
fi

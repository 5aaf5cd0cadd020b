-- Lmod module file of erase-mpi, installed as PREFIX/share/modulefiles/erase-mpi/VERSION.lua.
-- Relocatable: the prefix is found from this file's own path.
--   module use PREFIX/share/modulefiles; module load erase-mpi
local root = myFileName():gsub("/share/modulefiles/erase%-mpi/[^/]*$", "")
whatis("Name: erase-mpi")
whatis("Description: ERASE graph representation learning (GAT + MCR2) with MPI and parallel HDF5")
help([[erase-mpi: distributed ERASE training. `erase-mpi --help`, `man erase-mpi`;
Slurm batch scripts in $ERASE_MPI_ROOT/share/erase-mpi/jobs, presets in .../configs.]])
setenv("ERASE_MPI_ROOT", root)
prepend_path("PATH", pathJoin(root, "bin"))
prepend_path("MANPATH", pathJoin(root, "share/man"))

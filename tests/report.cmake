# erase-mpi report: the HTML + PNG pictures of a run (scripts/erase_report.py)
er_add_sh_test(test_report test_report.sh)

"""Running a project: the commands' library functions, the runner and its executors, artifacts, reports."""

"""Sources: all I/O. Git mining, static reading of migration files, deploy providers, the
database probe and the health check. Each returns model objects."""

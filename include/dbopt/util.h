/*-------------------------------------------------------------------------
 *
 * util.h
 *	  Catalog and SPI utilities shared by dbopt's reports.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DBOPT_UTIL_H
#define DBOPT_UTIL_H

#include "postgres.h"

/* Installed version of an extension in this database, or NULL. */
extern char *dbopt_extension_version(const char *extname);

/* Schema an extension is installed in, or InvalidOid. */
extern Oid	dbopt_extension_schema(const char *extname);

/* Whether the server has a control file for the extension. */
extern bool dbopt_extension_available(const char *extname);

/* "schema.name", each part quoted only where needed. */
extern char *dbopt_qualified_relname(Oid relid);

/* Whether a library name appears in shared_preload_libraries. */
extern bool dbopt_library_preloaded(const char *libname);

/*
 * Run a read-only query through SPI (caller connected) and return the first
 * column of the first row as int8; *isnull is set when there is no row or
 * the value is NULL.
 */
extern int64 dbopt_spi_int8(const char *sql, bool *isnull);

#endif							/* DBOPT_UTIL_H */

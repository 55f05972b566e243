#ifndef IMAGEGEN_CARCHIVE_SHIM_H
#define IMAGEGEN_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#endif

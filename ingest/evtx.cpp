#include "ingest/evtx.h"

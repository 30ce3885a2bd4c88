/*
 * report.h -- the analysis as one self-contained HTML page: score cards,
 * a score histogram and a length distribution per format, action usage
 * and the issue table with examples.  Inline CSS and SVG only: no
 * external script, font or stylesheet, so the file can be mailed or
 * archived as it is.
 */
#ifndef CORE_REPORT_H
#define CORE_REPORT_H

#include <jansson.h>

/* Return the page for an analysis report (borrowed) as an owned string. */
char *core_report_html(json_t *report);
/* Write it to path (through a temporary file and a rename).  Returns
 * SYNTH_OK or SYNTH_EIO (reported). */
int core_report_write(json_t *report, const char *path);

#endif

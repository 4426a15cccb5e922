#!/usr/bin/env Rscript
# Daily series no choice of the trainer was made on, from R's own datasets and two Debian
# packages (apt-get install r-base-core r-cran-forecast r-cran-tseries), written as CSVs that
# `forecast train` reads with the column mapping alone (commands in docs/BENCHMARKS.md):
#   eu-stocks.csv  EuStockMarkets: DAX, SMI, CAC and FTSE closes, 1860 business days from 1991
#                  (the series carry no dates: business days from 1991-07-01 are given them)
#   gold.csv       forecast::gold: the daily morning gold price in US dollars, 1 January 1985 to
#                  31 March 1989, business days, with missing days left blank
#   ice-river.csv  tseries::ice.river: daily flow of two Icelandic rivers, precipitation and
#                  temperature at Hveravellir, 1972-1974
#   tcm10y.csv     tseries::tcmd: the daily 10-year US treasury constant maturity yield, 9574
#                  business days from 1962-01-02 (no dates either: business days are given them)
# Usage: Rscript bench/r-datasets.R OUTDIR
suppressMessages({library(forecast); library(tseries)})
out <- commandArgs(trailingOnly = TRUE)[1]
dir.create(out, showWarnings = FALSE, recursive = TRUE)
business <- function(from, n) {
  days <- seq(as.Date(from), by = "day", length.out = ceiling(n * 7 / 5) + 10)
  days <- days[!(format(days, "%u") %in% c("6", "7"))]
  days[seq_len(n)]
}
eu <- EuStockMarkets
d <- business("1991-07-01", nrow(eu))
long <- do.call(rbind, lapply(colnames(eu), function(s)
  data.frame(date = d, index = s, close = as.numeric(eu[, s]))))
write.csv(long, file.path(out, "eu-stocks.csv"), row.names = FALSE)
g <- as.numeric(gold)
write.csv(data.frame(date = business("1985-01-01", length(g)), series = "gold", price = g),
          file.path(out, "gold.csv"), row.names = FALSE, na = "")
data(ice.river)
ir <- as.data.frame(ice.river)
write.csv(data.frame(date = seq(as.Date("1972-01-01"), by = "day", length.out = nrow(ir)),
                     station = "Hveravellir", ir),
          file.path(out, "ice-river.csv"), row.names = FALSE, na = "")
data(tcmd)
y <- as.numeric(tcmd[, "tcm10yd"])
write.csv(data.frame(date = business("1962-01-02", length(y)), series = "tcm10y", yield = y),
          file.path(out, "tcm10y.csv"), row.names = FALSE, na = "")

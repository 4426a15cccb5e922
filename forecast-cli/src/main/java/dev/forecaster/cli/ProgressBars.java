package dev.forecaster.cli;

import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress bars of the commands: drawn on a terminal, silent where there is none (CI, tests,
 * pipes).
 */
public final class ProgressBars {

  private ProgressBars() {}

  /**
   * @param max steps in all; 0 when unknown
   */
  public static ProgressBar of(String task, long max, String unit) {
    ProgressBarBuilder builder =
        new ProgressBarBuilder()
            .setTaskName(task)
            .setInitialMax(max)
            .setStyle(ProgressBarStyle.ASCII)
            .setUnit(unit, 1)
            .setUpdateIntervalMillis(250);
    if (System.console() == null) {
      builder.setConsumer(new DelegatingProgressBarConsumer(line -> {}));
    }
    return builder.build();
  }
}

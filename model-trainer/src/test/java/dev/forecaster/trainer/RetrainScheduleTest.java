package dev.forecaster.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RetrainScheduleTest {

  @Test
  void anIntervalCountsFromTheGivenTime() {
    Instant t = Instant.parse("2026-11-25T10:15:00Z");
    assertThat(RetrainSchedule.every(Duration.ofHours(24)).next(t))
        .isEqualTo(Instant.parse("2026-11-26T10:15:00Z"));
    assertThatThrownBy(() -> RetrainSchedule.every(Duration.ZERO)).hasMessageContaining("positive");
  }

  @Test
  void aCronExpressionFiresAtItsNextUtcTime() {
    RetrainSchedule nightly = RetrainSchedule.cron("0 3 * * *");
    assertThat(nightly.next(Instant.parse("2026-11-25T02:59:00Z")))
        .isEqualTo(Instant.parse("2026-11-25T03:00:00Z"));
    assertThat(nightly.next(Instant.parse("2026-11-25T03:00:00Z")))
        .isEqualTo(Instant.parse("2026-11-26T03:00:00Z"));
    RetrainSchedule mondays = RetrainSchedule.cron("30 6 * * 1");
    assertThat(mondays.next(Instant.parse("2026-11-25T00:00:00Z")))
        .isEqualTo(Instant.parse("2026-11-30T06:30:00Z"));
    assertThatThrownBy(() -> RetrainSchedule.cron("every night"))
        .hasMessageContaining("not a Unix cron expression");
  }

  @Test
  void durationsReadShortAndIsoForms() {
    assertThat(RetrainSchedule.parseDuration("24h")).isEqualTo(Duration.ofHours(24));
    assertThat(RetrainSchedule.parseDuration("90m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(RetrainSchedule.parseDuration("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(RetrainSchedule.parseDuration("2d")).isEqualTo(Duration.ofDays(2));
    assertThat(RetrainSchedule.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(RetrainSchedule.parseDuration("PT6H")).isEqualTo(Duration.ofHours(6));
    assertThatThrownBy(() -> RetrainSchedule.parseDuration("soon"))
        .hasMessageContaining("not a duration");
  }
}

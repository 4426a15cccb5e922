package dev.forecaster.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.DayOfWeek;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReadingDaysTest {

  private static final LocalDate FRIDAY = LocalDate.of(2013, 6, 7);

  @Test
  void tradingDaysWithHolidaysAndAStrayWeekendDayAreWeekdays() {
    List<LocalDate> days = new ArrayList<>();
    for (LocalDate d = LocalDate.of(2012, 1, 1); d.isBefore(LocalDate.of(2014, 1, 1)); ) {
      if (d.getDayOfWeek().getValue() <= 5 && d.getDayOfMonth() != 1) { // a holiday a month
        days.add(d);
      }
      d = d.plusDays(1);
    }
    days.add(LocalDate.of(2013, 3, 2)); // a Saturday session
    days.add(LocalDate.of(2013, 3, 3));

    assertThat(ReadingDays.learn(days)).isEqualTo(ReadingDays.WEEKDAYS);
  }

  @Test
  void aShortHistoryWithOneStrayWeekendDayIsStillWeekdays() {
    List<LocalDate> days = new ArrayList<>();
    for (int i = 0; i < 21; i++) { // three weeks of trading days from a Monday
      LocalDate d = LocalDate.of(2013, 6, 3).plusDays(i);
      if (d.getDayOfWeek().getValue() <= 5) {
        days.add(d);
      }
    }
    days.add(LocalDate.of(2013, 6, 8)); // one Saturday

    assertThat(ReadingDays.learn(days)).isEqualTo(ReadingDays.WEEKDAYS);
  }

  @Test
  void aDailySeriesWithGapsReadsEveryDay() {
    List<LocalDate> days = new ArrayList<>();
    for (int i = 0; i < 700; i++) {
      if (i % 10 != 3 && (i < 200 || i > 260)) { // a missing day in ten, two lost months
        days.add(LocalDate.of(2012, 1, 1).plusDays(i));
      }
    }
    assertThat(ReadingDays.learn(days)).isEqualTo(ReadingDays.EVERY_DAY);
    assertThat(ReadingDays.learn(List.of())).isEqualTo(ReadingDays.EVERY_DAY);
  }

  @Test
  void theHthReadingDayAfterABaseDay() {
    assertThat(ReadingDays.WEEKDAYS.after(FRIDAY, 1)).isEqualTo(FRIDAY.plusDays(3));
    assertThat(ReadingDays.WEEKDAYS.after(FRIDAY, 5)).isEqualTo(FRIDAY.plusDays(7));
    assertThat(ReadingDays.WEEKDAYS.after(FRIDAY.plusDays(1), 1)).isEqualTo(FRIDAY.plusDays(3));
    assertThat(ReadingDays.EVERY_DAY.after(FRIDAY, 1)).isEqualTo(FRIDAY.plusDays(1));
    assertThat(new ReadingDays(EnumSet.of(DayOfWeek.MONDAY)).after(FRIDAY, 2))
        .isEqualTo(FRIDAY.plusDays(10));
  }

  @Test
  void aSpecTargetsByItsCalendarAndKeepsItInTheArtifact() throws Exception {
    ModelSpec spec =
        TestModels.spec(Architecture.GRU, 1).toBuilder().readingDays(ReadingDays.WEEKDAYS).build();
    assertThat(spec.targetDay(FRIDAY)).isEqualTo(FRIDAY.plusDays(3));
    try (LoadedModel model = TestModels.randomModel(spec)) {
      byte[] artifact = ModelArtifact.write(model);
      assertThat(ModelArtifact.readSpec(artifact, ModelArtifact.sha256(artifact)).readingDays())
          .isEqualTo(ReadingDays.WEEKDAYS);
    }
  }

  @Test
  void aSpecWrittenBeforeCalendarsReadsEveryDay() throws Exception {
    ObjectMapper json = new ObjectMapper();
    ObjectNode old =
        (ObjectNode)
            json.readTree(
                ModelArtifact.specJson(
                    TestModels.spec(Architecture.GRU, 1).toBuilder()
                        .readingDays(ReadingDays.WEEKDAYS)
                        .build()));
    assertThat(old.get("readingDays").toString())
        .isEqualTo("[\"MONDAY\",\"TUESDAY\",\"WEDNESDAY\",\"THURSDAY\",\"FRIDAY\"]");
    old.remove("readingDays");

    ModelSpec read = ModelArtifact.parseSpec(old.toString().getBytes(StandardCharsets.UTF_8));

    assertThat(read.readingDays()).isEqualTo(ReadingDays.EVERY_DAY);
    assertThat(read.targetDay(FRIDAY)).isEqualTo(FRIDAY.plusDays(1));
  }
}

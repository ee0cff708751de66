package dev.sparkvit.data.stream;

import java.io.Serializable;
import org.apache.spark.sql.Row;

/** Which stored rows a stream serves, decided on the row's columns but its pixels (which may be null when counting). */
@FunctionalInterface
public interface RowFilter extends Serializable {
    /** Every row. */
    RowFilter ALL = row -> true;

    boolean keeps(Row row);
}

package dev.sparkvit.data.stream;

import dev.sparkvit.data.ingest.StoredImageSchema;
import dev.sparkvit.data.table.DatasetTable;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.MessageColumnIO;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Reads the stored images of one split from one Parquet data file of the dataset table, row group by row group, with
 * parquet-hadoop inside the task: only the asked columns (and {@code kind}, {@code split}) are read; a skipped row
 * group is not read at all. Memory: the open row group's column chunks, never more (the rows are handed out one by
 * one). Rows are {@link Row}s of the asked columns, by name and in order.
 */
final class StoredRowReader implements Closeable {
    private final ParquetFileReader reader;
    private final MessageColumnIO io;
    private final MessageType projection;
    private final StructType schema;
    private final String split;
    private final RowFilter filter;
    private final String path;
    private int nextGroup;
    private RecordReader<Group> records;
    private long left;

    /**
     * @param columns the row's columns (of {@link StoredImageSchema#IMAGES})
     * @param withPixels false to leave {@code pixels} unread (null in the rows): counting rows
     */
    StoredRowReader(Configuration conf, String path, String[] columns, String split, RowFilter filter,
            boolean withPixels) throws IOException {
        this.path = path;
        this.split = split;
        this.filter = filter;
        this.schema = schema(columns);
        this.reader = ParquetFileReader.open(HadoopInputFile.fromPath(new Path(path), conf));
        MessageType file = reader.getFooter().getFileMetaData().getSchema();
        List<Type> fields = new ArrayList<>();
        for (Type field : file.getFields()) {
            String name = field.getName();
            if (name.equals(DatasetTable.KIND) || name.equals("split")
                    || (schema.getFieldIndex(name).isDefined() && (withPixels || !name.equals("pixels")))) {
                fields.add(field);
            }
        }
        this.projection = new MessageType(file.getName(), fields);
        reader.setRequestedSchema(projection);
        this.io = new ColumnIOFactory().getColumnIO(projection, file);
    }

    static StructType schema(String[] columns) {
        StructType schema = new StructType();
        for (String column : columns) {
            StructField field = StoredImageSchema.IMAGES.apply(column);
            schema = schema.add(field.name(), field.dataType(), true);
        }
        return schema;
    }

    int rowGroups() {
        return reader.getRowGroups().size();
    }

    /** The row group the next {@link #skipGroup} or {@link #openGroup} acts on. */
    int nextGroup() {
        return nextGroup;
    }

    /** Passes over the next row group without reading it. */
    void skipGroup() {
        if (!reader.skipNextRowGroup()) {
            throw new IllegalStateException(path + " has no row group " + nextGroup);
        }
        nextGroup++;
        records = null;
        left = 0;
    }

    /** Reads the next row group's column chunks; {@link #next} then serves its rows. */
    void openGroup() throws IOException {
        PageReadStore pages = reader.readNextRowGroup();
        if (pages == null) {
            throw new IllegalStateException(path + " has no row group " + nextGroup);
        }
        nextGroup++;
        records = io.getRecordReader(pages, new GroupRecordConverter(projection));
        left = pages.getRowCount();
    }

    /** The open row group's next row of the split that the filter keeps, or null when the group has no more. */
    Row next() {
        while (left > 0) {
            left--;
            Group g = records.read();
            if (!DatasetTable.IMAGE.equals(string(g, DatasetTable.KIND)) || !split.equals(string(g, "split"))) {
                continue;
            }
            Object[] values = new Object[schema.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = value(g, schema.fields()[i].name(), schema.fields()[i].dataType());
            }
            Row row = new GenericRowWithSchema(values, schema);
            if (filter.keeps(row)) {
                return row;
            }
        }
        return null;
    }

    /** The rows of each row group that {@link #next} serves: the whole file read once, without the pixels. */
    long[] countPerGroup() throws IOException {
        long[] counts = new long[rowGroups()];
        for (int g = 0; g < counts.length; g++) {
            openGroup();
            while (next() != null) {
                counts[g]++;
            }
        }
        return counts;
    }

    private static String string(Group g, String field) {
        return g.getType().containsField(field) && g.getFieldRepetitionCount(field) > 0 ? g.getString(field, 0)
                : null;
    }

    private static Object value(Group g, String field, DataType type) {
        if (!g.getType().containsField(field) || g.getFieldRepetitionCount(field) == 0) {
            return null;
        }
        if (type.equals(DataTypes.StringType)) {
            return g.getString(field, 0);
        }
        if (type.equals(DataTypes.IntegerType)) {
            return g.getInteger(field, 0);
        }
        if (type.equals(DataTypes.BinaryType)) {
            return g.getBinary(field, 0).getBytes();
        }
        throw new IllegalArgumentException("column " + field + " of type " + type + " cannot be streamed");
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }
}

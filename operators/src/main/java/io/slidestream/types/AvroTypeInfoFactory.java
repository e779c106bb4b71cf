package io.slidestream.types;

import java.lang.reflect.Type;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.functions.InvalidTypesException;
import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;

/**
 * Lets Flink's type extraction give {@link AvroTypeInfo} for the Avro event classes wherever they
 * appear (a function's output, a POJO field, a window's result). Registered per class JVM-wide with
 * {@link SlideStreamTypes#register()}.
 */
public final class AvroTypeInfoFactory extends TypeInfoFactory<SpecificRecord> {

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public TypeInformation<SpecificRecord> createTypeInfo(
            Type t, Map<String, TypeInformation<?>> genericParameters) {
        if (!(t instanceof Class) || !SpecificRecord.class.isAssignableFrom((Class<?>) t)) {
            throw new InvalidTypesException(
                    "AvroTypeInfoFactory handles generated Avro classes only, not " + t);
        }
        return new AvroTypeInfo((Class<? extends SpecificRecord>) t);
    }
}

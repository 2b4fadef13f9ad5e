/* registry.c — every component type sluice knows, by kind.
 *
 * Adding a component is one file in src/sources, src/transforms or
 * src/sinks that defines `const sl_component_type sl_<kind>_<name>_type`,
 * and one line here. The lists drive the pipeline builder, "did you mean"
 * for unknown types, `sluice help` and the generated component reference.
 */
#include <string.h>

#include "component.h"

extern const sl_component_type sl_source_file_type;
extern const sl_component_type sl_source_stdin_type;
extern const sl_component_type sl_source_tail_type;
extern const sl_component_type sl_source_generate_type;
extern const sl_component_type sl_source_dlq_type;

extern const sl_component_type sl_transform_parse_type;
extern const sl_component_type sl_transform_filter_type;
extern const sl_component_type sl_transform_route_type;
extern const sl_component_type sl_transform_remap_type;
extern const sl_component_type sl_transform_sample_type;
extern const sl_component_type sl_transform_lua_type;
extern const sl_component_type sl_transform_validate_type;
extern const sl_component_type sl_transform_quality_type;
extern const sl_component_type sl_transform_profile_type;
extern const sl_component_type sl_transform_normalize_type;
extern const sl_component_type sl_transform_redact_type;
extern const sl_component_type sl_transform_dedup_type;
extern const sl_component_type sl_transform_text_quality_type;

extern const sl_component_type sl_sink_file_type;
extern const sl_component_type sl_sink_stdout_type;
extern const sl_component_type sl_sink_blackhole_type;
extern const sl_component_type sl_sink_dataset_type;

static const sl_component_type *const sources[] = {
    &sl_source_file_type,
    &sl_source_stdin_type,
    &sl_source_tail_type,
    &sl_source_generate_type,
    &sl_source_dlq_type,
    NULL,
};

static const sl_component_type *const transforms[] = {
    &sl_transform_parse_type,
    &sl_transform_filter_type,
    &sl_transform_route_type,
    &sl_transform_remap_type,
    &sl_transform_sample_type,
    &sl_transform_lua_type,
    &sl_transform_validate_type,
    &sl_transform_quality_type,
    &sl_transform_profile_type,
    &sl_transform_normalize_type,
    &sl_transform_redact_type,
    &sl_transform_dedup_type,
    &sl_transform_text_quality_type,
    NULL,
};

static const sl_component_type *const sinks[] = {
    &sl_sink_file_type,
    &sl_sink_stdout_type,
    &sl_sink_blackhole_type,
    &sl_sink_dataset_type,
    NULL,
};

const sl_component_type *const *sl_registry_list(sl_kind kind)
{
    switch (kind) {
    case SL_SOURCE: return sources;
    case SL_TRANSFORM: return transforms;
    case SL_SINK: return sinks;
    }
    return NULL;
}

const sl_component_type *sl_registry_find(sl_kind kind, const char *name)
{
    const sl_component_type *const *list = sl_registry_list(kind);
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i]->name, name) == 0) return list[i];
    return NULL;
}

const char *sl_kind_name(sl_kind kind)
{
    switch (kind) {
    case SL_SOURCE: return "source";
    case SL_TRANSFORM: return "transform";
    case SL_SINK: return "sink";
    }
    return "?";
}

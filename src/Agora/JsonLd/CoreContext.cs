using System.Collections.Frozen;
using System.Text.Json.Nodes;

namespace Agora.JsonLd;

[Flags]
internal enum CoreVersions
{
    V18 = 1,
    V19 = 2,
    All = V18 | V19,
}

/// One term of the NGSI-LD core @context as Agora renders it: the IRI, coercion and container exactly as the
/// ETSI document writes them (compact IRIs included), so the rendering can be served and checked term by term.
internal sealed record CoreTerm(string Name, string Id, string? Type = null, string? Container = null, string? Scoped = null, CoreVersions In = CoreVersions.All);

/// Agora's built-in NGSI-LD core @context. The V1.8 and V1.9 term sets differ (V1.9 renames objectsLists to
/// objectLists and moves attributeCount/attributeDetails into the ngsi-ld namespace), so each version keeps its own
/// set: the V1.3 to V1.8 URLs answer with the V1.8 set (no V1.6/V1.7 documents are known to differ from it in terms
/// a broker uses) and the V1.9 URL with the V1.9 set. No network is ever involved.
internal static class CoreContext
{
    public const string Vocab = "https://uri.etsi.org/ngsi-ld/default-context/";
    public const string V18Url = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";
    public const string V19Url = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld";

    // The unversioned URL has tracked the latest published version over time; clients using it expect the terms
    // of the version they were written against, which for every term a broker processes is the V1.8 set.
    private static readonly FrozenDictionary<string, CoreVersions> Urls = new Dictionary<string, CoreVersions>
    {
        ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"] = CoreVersions.V18,
        ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.3.jsonld"] = CoreVersions.V18,
        ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.4.jsonld"] = CoreVersions.V18,
        ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.5.jsonld"] = CoreVersions.V18,
        ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld"] = CoreVersions.V18,
        ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.7.jsonld"] = CoreVersions.V18,
        [V18Url] = CoreVersions.V18,
        [V19Url] = CoreVersions.V19,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static IEnumerable<string> KnownUrls => Urls.Keys;

    /// The version a core context URL answers with, or null when the URL is not one of them. Plain http is
    /// accepted too: some clients write it.
    public static CoreVersions? VersionOf(string url)
    {
        if (Urls.TryGetValue(url, out var v))
        {
            return v;
        }
        return url.StartsWith("http://uri.etsi.org/", StringComparison.Ordinal) && Urls.TryGetValue("https" + url[4..], out v) ? v : null;
    }

    /// The core context document of one version, as {"@context": {...}}: a fresh node each call.
    public static JsonObject Document(CoreVersions version)
    {
        var context = new JsonObject();
        if (version == CoreVersions.V19)
        {
            context["@version"] = 1.1;
            context["@protected"] = true;
        }
        context["@vocab"] = Vocab;
        foreach (var t in Terms)
        {
            if ((t.In & version) == 0)
            {
                continue;
            }
            if (t.Type is null && t.Container is null && t.Scoped is null)
            {
                context[t.Name] = t.Id;
                continue;
            }
            var definition = new JsonObject { ["@id"] = t.Id };
            if (t.Type is not null)
            {
                definition["@type"] = t.Type;
            }
            if (t.Container is not null)
            {
                definition["@container"] = t.Container;
            }
            if (t.Scoped is not null)
            {
                definition["@context"] = JsonNode.Parse(t.Scoped);
            }
            context[t.Name] = definition;
        }
        return new JsonObject { ["@context"] = context };
    }

    // Read from ETSI GS CIM 009 Annex B and the published V1.8/V1.9 documents; CoreContextTests checks this table
    // against reference copies of the documents term by term.
    public static readonly CoreTerm[] Terms =
    [
        new("accept", "ngsi-ld:accept"),
        new("aggrMethods", "ngsi-ld:aggrMethods", In: CoreVersions.V19),
        new("aggrParams", "ngsi-ld:aggrParams", In: CoreVersions.V19),
        new("aggrPeriodDuration", "ngsi-ld:aggrPeriodDuration", In: CoreVersions.V19),
        new("Attribute", "ngsi-ld:Attribute"),
        new("attributeCount", "attributeCount", In: CoreVersions.V18),
        new("attributeCount", "ngsi-ld:attributeCount", In: CoreVersions.V19),
        new("attributeDetails", "attributeDetails", In: CoreVersions.V18),
        new("attributeDetails", "ngsi-ld:attributeDetails", In: CoreVersions.V19),
        new("AttributeList", "ngsi-ld:AttributeList"),
        new("attributeList", "ngsi-ld:attributeList", Type: "@vocab"),
        new("attributeName", "ngsi-ld:attributeName", Type: "@vocab"),
        new("attributeNames", "ngsi-ld:attributeNames", Type: "@vocab"),
        new("attributes", "ngsi-ld:attributes", Type: "@vocab"),
        new("attributeTypes", "ngsi-ld:attributeTypes", Type: "@vocab"),
        new("attrs", "ngsi-ld:attrs"),
        new("avg", "ngsi-ld:avg", Container: "@list"),
        new("bbox", "geojson:bbox", Container: "@list"),
        new("cacheDuration", "ngsi-ld:cacheDuration"),
        new("collation", "ngsi-ld:collation", In: CoreVersions.V19),
        new("containedBy", "ngsi-ld:isContainedBy", In: CoreVersions.V19),
        new("contextSourceAlias", "ngsi-ld:contextSourceAlias", In: CoreVersions.V19),
        new("contextSourceExtras", "ngsi-ld:contextSourceExtras", Type: "@json", In: CoreVersions.V19),
        new("ContextSourceIdentity", "ngsi-ld:ContextSourceIdentity"),
        new("contextSourceInfo", "ngsi-ld:contextSourceInfo"),
        new("ContextSourceNotification", "ngsi-ld:ContextSourceNotification"),
        new("ContextSourceRegistration", "ngsi-ld:ContextSourceRegistration"),
        new("contextSourceTimeAt", "ngsi-ld:contextSourceTimeAt", Type: "DateTime", In: CoreVersions.V19),
        new("contextSourceUptime", "ngsi-ld:contextSourceUptime", In: CoreVersions.V19),
        new("cooldown", "ngsi-ld:cooldown"),
        new("coordinates", "geojson:coordinates", Container: "@list"),
        new("createdAt", "ngsi-ld:createdAt", Type: "DateTime"),
        new("csf", "ngsi-ld:csf"),
        new("data", "ngsi-ld:data"),
        new("dataset", "ngsi-ld:hasDataset", Container: "@index"),
        new("datasetId", "ngsi-ld:datasetId", Type: "@id"),
        new("Date", "ngsi-ld:Date"),
        new("DateTime", "ngsi-ld:DateTime"),
        new("deletedAt", "ngsi-ld:deletedAt", Type: "DateTime"),
        new("description", "http://purl.org/dc/terms/description"),
        new("detail", "ngsi-ld:detail"),
        new("distinctCount", "ngsi-ld:distinctCount", Container: "@list"),
        new("endAt", "ngsi-ld:endAt", Type: "DateTime"),
        new("endpoint", "ngsi-ld:endpoint"),
        new("endTimeAt", "ngsi-ld:endTimeAt", Type: "DateTime"),
        new("entities", "ngsi-ld:entities"),
        new("entity", "ngsi-ld:entity"),
        new("entityCount", "ngsi-ld:entityCount"),
        new("entityId", "ngsi-ld:entityId", Type: "@id"),
        new("entityList", "ngsi-ld:entityList", Container: "@list"),
        new("EntityMap", "ngsi-ld:EntityMap", In: CoreVersions.V19),
        new("entityMap", "ngsi-ld:hasEntityMap", Container: "@index", In: CoreVersions.V19),
        new("entityMapLifetime", "ngsi-ld:hasEntityMapLifetime", In: CoreVersions.V19),
        new("EntityType", "ngsi-ld:EntityType"),
        new("EntityTypeInfo", "ngsi-ld:EntityTypeInfo"),
        new("EntityTypeList", "ngsi-ld:EntityTypeList"),
        new("error", "ngsi-ld:error"),
        new("errors", "ngsi-ld:errors"),
        new("ExecutionResultDetails", "ngsi-ld:ExecutionResultDetails", In: CoreVersions.V19),
        new("expandValues", "ngsi-ld:expandValues", In: CoreVersions.V19),
        new("expiresAt", "ngsi-ld:expiresAt", Type: "DateTime"),
        new("Feature", "geojson:Feature"),
        new("FeatureCollection", "geojson:FeatureCollection"),
        new("features", "geojson:features", Container: "@set"),
        new("format", "ngsi-ld:format"),
        new("geojson", "https://purl.org/geojson/vocab#"),
        new("geometry", "geojson:geometry"),
        new("GeometryCollection", "geojson:GeometryCollection"),
        new("GeoProperty", "ngsi-ld:GeoProperty"),
        new("geoproperty", "ngsi-ld:geoproperty"),
        new("geoQ", "ngsi-ld:geoQ"),
        new("georel", "ngsi-ld:georel"),
        new("id", "@id"),
        new("idPattern", "ngsi-ld:idPattern"),
        new("information", "ngsi-ld:information"),
        new("instanceId", "ngsi-ld:instanceId", Type: "@id"),
        new("isActive", "ngsi-ld:isActive"),
        new("join", "ngsi-ld:join", In: CoreVersions.V19),
        new("joinLevel", "ngsi-ld:hasJoinLevel", In: CoreVersions.V19),
        new("json", "ngsi-ld:hasJSON", Type: "@json"),
        new("jsonKeys", "ngsi-ld:jsonKeys", In: CoreVersions.V19),
        new("jsonldContext", "ngsi-ld:jsonldContext", In: CoreVersions.V19),
        new("JsonProperty", "ngsi-ld:JsonProperty"),
        new("jsons", "ngsi-ld:jsons", Container: "@list"),
        new("key", "ngsi-ld:hasKey"),
        new("lang", "ngsi-ld:lang"),
        new("langString", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString", In: CoreVersions.V19),
        new("languageMap", "ngsi-ld:hasLanguageMap", Container: "@language"),
        new("languageMaps", "ngsi-ld:hasLanguageMaps", Container: "@list"),
        new("LanguageProperty", "ngsi-ld:LanguageProperty"),
        new("lastFailure", "ngsi-ld:lastFailure", Type: "DateTime"),
        new("lastN", "ngsi-ld:lastN", In: CoreVersions.V19),
        new("lastNotification", "ngsi-ld:lastNotification", Type: "DateTime"),
        new("lastSuccess", "ngsi-ld:lastSuccess", Type: "DateTime"),
        new("lastUsedAt", "ngsi-ld:lastUsedAt", Type: "DateTime", In: CoreVersions.V19),
        new("LineString", "geojson:LineString"),
        new("linkedMaps", "ngsi-ld:linkedMaps", In: CoreVersions.V19),
        new("ListProperty", "ngsi-ld:ListProperty"),
        new("ListRelationship", "ngsi-ld:ListRelationship"),
        new("localOnly", "ngsi-ld:localOnly"),
        new("location", "ngsi-ld:location"),
        new("management", "ngsi-ld:management"),
        new("managementInterval", "ngsi-ld:managementInterval"),
        new("max", "ngsi-ld:max", Container: "@list"),
        new("min", "ngsi-ld:min", Container: "@list"),
        new("mode", "ngsi-ld:mode"),
        new("modifiedAt", "ngsi-ld:modifiedAt", Type: "DateTime"),
        new("MultiLineString", "geojson:MultiLineString"),
        new("MultiPoint", "geojson:MultiPoint"),
        new("MultiPolygon", "geojson:MultiPolygon"),
        new("ngsi-ld", "https://uri.etsi.org/ngsi-ld/"),
        new("ngsildConformance", "ngsi-ld:ngsildConformance", In: CoreVersions.V19),
        new("ngsildproof", "ngsi-ld:ngsildproof", Scoped: "[{\"entityIdSealed\":\"ngsi-ld:entityIdSealed\",\"entityTypeSealed\":{\"@id\":\"ngsi-ld:entityTypeSealed\",\"@type\":\"@vocab\"}},\"https://w3id.org/security/data-integrity/v2\"]", In: CoreVersions.V19),
        new("Notification", "ngsi-ld:Notification"),
        new("notification", "ngsi-ld:notification"),
        new("notificationTrigger", "ngsi-ld:notificationTrigger"),
        new("notifiedAt", "ngsi-ld:notifiedAt", Type: "DateTime"),
        new("notifierInfo", "ngsi-ld:notifierInfo"),
        new("notUpdated", "ngsi-ld:notUpdated"),
        new("object", "ngsi-ld:hasObject", Type: "@id"),
        new("objectList", "ngsi-ld:hasObjectList", Container: "@list"),
        new("objectLists", "ngsi-ld:hasObjectLists", Container: "@list", In: CoreVersions.V19),
        new("objects", "ngsi-ld:hasObjects", Container: "@list"),
        new("objectsLists", "ngsi-ld:hasObjectsLists", Container: "@list", In: CoreVersions.V18),
        new("objectType", "ngsi-ld:hasObjectType", Type: "@vocab"),
        new("observationInterval", "ngsi-ld:observationInterval"),
        new("observationSpace", "ngsi-ld:observationSpace"),
        new("observedAt", "ngsi-ld:observedAt", Type: "DateTime"),
        new("omit", "ngsi-ld:omit", In: CoreVersions.V19),
        new("operations", "ngsi-ld:operations"),
        new("operationSpace", "ngsi-ld:operationSpace"),
        new("orderBy", "ngsi-ld:orderBy", Container: "@list", In: CoreVersions.V19),
        new("ordering", "ngsi-ld:ordering", In: CoreVersions.V19),
        new("pick", "ngsi-ld:pick", In: CoreVersions.V19),
        new("Point", "geojson:Point"),
        new("Polygon", "geojson:Polygon"),
        new("previousJson", "ngsi-ld:hasPreviousJson", Type: "@json"),
        new("previousLanguageMap", "ngsi-ld:hasPreviousLanguageMap", Container: "@language"),
        new("previousObject", "ngsi-ld:hasPreviousObject", Type: "@id"),
        new("previousObjectList", "ngsi-ld:hasPreviousObjectList", Container: "@list"),
        new("previousValue", "ngsi-ld:hasPreviousValue"),
        new("previousValueList", "ngsi-ld:hasPreviousValueList", Container: "@list"),
        new("previousVocab", "ngsi-ld:hasPreviousVocab", Type: "@vocab"),
        new("problemDetails", "ngsi-ld:problemDetails", Type: "@json", In: CoreVersions.V19),
        new("properties", "geojson:properties"),
        new("Property", "ngsi-ld:Property"),
        new("propertyNames", "ngsi-ld:propertyNames", Type: "@vocab"),
        new("q", "ngsi-ld:q"),
        new("reason", "ngsi-ld:reason"),
        new("receiverInfo", "ngsi-ld:receiverInfo"),
        new("refreshRate", "ngsi-ld:refreshRate"),
        new("registrationId", "ngsi-ld:registrationId"),
        new("registrationName", "ngsi-ld:registrationName"),
        new("Relationship", "ngsi-ld:Relationship"),
        new("relationshipNames", "ngsi-ld:relationshipNames", Type: "@vocab"),
        new("resultStatus", "ngsi-ld:resultStatus", In: CoreVersions.V19),
        new("scope", "ngsi-ld:scope"),
        new("scopeQ", "ngsi-ld:scopeQ"),
        new("showChanges", "ngsi-ld:showChanges"),
        new("Snapshot", "ngsi-ld:Snapshot", In: CoreVersions.V19),
        new("snapshotId", "ngsi-ld:snapshotId", In: CoreVersions.V19),
        new("snapshotLifetime", "ngsi-ld:snapshotLifetime", In: CoreVersions.V19),
        new("SnapshotNotification", "ngsi-ld:SnapshotNotification", In: CoreVersions.V19),
        new("snapshotPriority", "ngsi-ld:snapshotPriority", In: CoreVersions.V19),
        new("snapshotQueries", "ngsi-ld:snapshotQueries", Container: "@list", In: CoreVersions.V19),
        new("snapshotQueriesDetails", "ngsi-ld:snapshotQueriesDetails", Container: "@list", In: CoreVersions.V19),
        new("snapshotStatus", "ngsi-ld:snapshotStatus", In: CoreVersions.V19),
        new("snapshotTemporalQueries", "ngsi-ld:snapshotTemporalQueries", Container: "@list", In: CoreVersions.V19),
        new("snapshotTemporalQueriesDetails", "ngsi-ld:snapshotTemporalQueriesDetails", Container: "@list", In: CoreVersions.V19),
        new("splitEntities", "ngsi-ld:hasSplitEntities", In: CoreVersions.V19),
        new("startAt", "ngsi-ld:startAt", Type: "DateTime"),
        new("status", "ngsi-ld:status"),
        new("stddev", "ngsi-ld:stddev", Container: "@list"),
        new("Subscription", "ngsi-ld:Subscription"),
        new("subscriptionId", "ngsi-ld:subscriptionId", Type: "@id"),
        new("subscriptionName", "ngsi-ld:subscriptionName"),
        new("success", "ngsi-ld:success", Type: "@id"),
        new("sum", "ngsi-ld:sum", Container: "@list"),
        new("sumsq", "ngsi-ld:sumsq", Container: "@list"),
        new("sysAttrs", "ngsi-ld:sysAttrs"),
        new("TemporalProperty", "ngsi-ld:TemporalProperty"),
        new("temporalQ", "ngsi-ld:temporalQ"),
        new("tenant", "ngsi-ld:tenant", Type: "@id"),
        new("throttling", "ngsi-ld:throttling"),
        new("Time", "ngsi-ld:Time"),
        new("timeAt", "ngsi-ld:timeAt", Type: "DateTime"),
        new("timeInterval", "ngsi-ld:timeInterval"),
        new("timeout", "ngsi-ld:timeout"),
        new("timeproperty", "ngsi-ld:timeproperty"),
        new("timerel", "ngsi-ld:timerel"),
        new("timesFailed", "ngsi-ld:timesFailed"),
        new("timesSent", "ngsi-ld:timesSent"),
        new("title", "http://purl.org/dc/terms/title"),
        new("totalCount", "ngsi-ld:totalCount", Container: "@list"),
        new("triggerReason", "ngsi-ld:triggerReason"),
        new("type", "@type"),
        new("typeList", "ngsi-ld:typeList", Type: "@vocab"),
        new("typeName", "ngsi-ld:typeName", Type: "@vocab"),
        new("typeNames", "ngsi-ld:typeNames", Type: "@vocab"),
        new("unchanged", "ngsi-ld:unchanged"),
        new("unitCode", "ngsi-ld:unitCode"),
        new("updated", "ngsi-ld:updated"),
        new("uri", "ngsi-ld:uri"),
        new("value", "ngsi-ld:hasValue"),
        new("valueList", "ngsi-ld:hasValueList", Container: "@list"),
        new("valueLists", "ngsi-ld:hasValueLists", Container: "@list"),
        new("values", "ngsi-ld:hasValues", Container: "@list"),
        new("valueType", "ngsi-ld:hasValueType", Type: "@vocab", In: CoreVersions.V19),
        new("vocab", "ngsi-ld:hasVocab", Type: "@vocab"),
        new("VocabProperty", "ngsi-ld:VocabProperty"),
        new("vocabs", "ngsi-ld:hasVocabs", Container: "@list"),
        new("watchedAttributes", "ngsi-ld:watchedAttributes", Type: "@vocab"),
    ];
}

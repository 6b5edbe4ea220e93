namespace Agora.Entities;

/// The member names NGSI-LD reserves on entities and attributes. Stored documents keep these short names;
/// every other key in a stored document is an expanded attribute IRI.
internal static class Members
{
    public const string Null = "urn:ngsi-ld:null";
    public const string LocationIri = "https://uri.etsi.org/ngsi-ld/location";

    public static readonly HashSet<string> EntityReserved = new(StringComparer.Ordinal)
    {
        "id", "type", "scope", "createdAt", "modifiedAt", "deletedAt", "@context",
    };

    public static readonly HashSet<string> AttributeReserved = new(StringComparer.Ordinal)
    {
        "type", "value", "object", "objectType", "languageMap", "vocab", "json", "valueList", "objectList",
        "observedAt", "unitCode", "datasetId", "createdAt", "modifiedAt", "deletedAt", "lang", "instanceId",
        "@context", "previousValue", "previousObject", "previousLanguageMap", "previousVocab", "previousJson",
        "previousValueList", "previousObjectList", "entity",
    };

    /// Members the broker sets itself; a client's values for them are ignored.
    public static readonly HashSet<string> SystemGenerated = new(StringComparer.Ordinal)
    {
        "createdAt", "modifiedAt", "deletedAt", "instanceId",
    };

    public static readonly string[] AttributeTypes =
    [
        "Property", "Relationship", "GeoProperty", "LanguageProperty", "VocabProperty", "JsonProperty",
        "ListProperty", "ListRelationship",
    ];

    /// The member that holds an attribute's value, per attribute type.
    public static string ValueMember(string attributeType) => attributeType switch
    {
        "Relationship" => "object",
        "LanguageProperty" => "languageMap",
        "VocabProperty" => "vocab",
        "JsonProperty" => "json",
        "ListProperty" => "valueList",
        "ListRelationship" => "objectList",
        _ => "value",
    };

    /// Attributes that, at the top of an entity, must be GeoProperties (clause 4.7).
    public static readonly HashSet<string> GeoAttributes = new(StringComparer.Ordinal)
    {
        "https://uri.etsi.org/ngsi-ld/location",
        "https://uri.etsi.org/ngsi-ld/observationSpace",
        "https://uri.etsi.org/ngsi-ld/operationSpace",
    };
}

using System.Text.Json.Nodes;
using Agora.JsonLd;
using Agora.Query;
using Agora.Tests.JsonLd;

namespace Agora.Tests.Query;

public sealed class QMatchTests
{
    private const string D = "https://uri.etsi.org/ngsi-ld/default-context/";

    /// One stored entity exercising every attribute type, in Agora's expanded form.
    private static readonly JsonObject Building = (JsonObject)JsonNode.Parse($$"""
    {
      "id": "urn:ngsi-ld:Building:1",
      "type": ["{{D}}Building"],
      "createdAt": "2024-01-01T00:00:00Z",
      "modifiedAt": "2024-06-01T10:00:00Z",
      "{{D}}name": [{ "type": "Property", "value": "Eiffel Tower" }],
      "{{D}}almostFull": [{ "type": "Property", "value": false }],
      "{{D}}airQualityLevel": [
        { "type": "Property", "value": 4, "observedAt": "2024-05-01T12:00:00Z", "unitCode": "C62",
          "{{D}}accuracy": { "type": "Property", "value": 0.9 } },
        { "type": "Property", "value": 7, "datasetId": "urn:ngsi-ld:Dataset:b" }
      ],
      "{{D}}tags": [{ "type": "Property", "value": ["blue", "red", "green"] }],
      "{{D}}address": [{ "type": "Property", "value": { "city": "Paris", "street": { "name": "Champ de Mars", "number": 5 } } }],
      "{{D}}locatedIn": [{ "type": "Relationship", "object": "urn:ngsi-ld:City:Paris",
          "{{D}}since": { "type": "Property", "value": "1889-03-31" } }],
      "{{D}}neighbours": [{ "type": "ListRelationship", "objectList": [{ "object": "urn:ngsi-ld:Building:2" }, { "object": "urn:ngsi-ld:Building:3" }] }],
      "{{D}}motto": [{ "type": "LanguageProperty", "languageMap": { "fr": "Tour Eiffel", "en": ["Eiffel Tower", "Iron Lady"] } }],
      "{{D}}category": [{ "type": "VocabProperty", "vocab": "{{D}}Monument" }],
      "{{D}}ticket": [{ "type": "JsonProperty", "json": { "id": "85a6", "value": "Overstay 60 minutes" } }],
      "{{D}}readings": [{ "type": "ListProperty", "valueList": [1, 5, 9] }],
      "{{D}}openedOn": [{ "type": "Property", "value": { "@type": "DateTime", "@value": "1889-05-15T10:00:00+02:00" } }],
      "{{D}}opening": [{ "type": "Property", "value": { "@type": "Time", "@value": "09:30:00Z" } }],
      "{{D}}built": [{ "type": "Property", "value": { "@type": "Date", "@value": "1887-01-28" } }]
    }
    """)!;

    private static bool Q(string q, JsonLdContext? context = null) => QExpression.Parse(q).Matches(Building, context ?? JsonLdContext.Core);

    [Theory]
    [InlineData("name")]
    [InlineData("name==\"Eiffel Tower\"")]
    [InlineData("almostFull==false")]
    [InlineData("name==\"Pisa Tower\"|almostFull==false")]
    [InlineData("(name==\"Pisa Tower\"|name==\"Eiffel Tower\");almostFull==false")]
    [InlineData("airQualityLevel==4")]
    [InlineData("airQualityLevel>=4;airQualityLevel<7")]
    [InlineData("locatedIn==urn:ngsi-ld:City:Paris")]
    [InlineData("locatedIn==\"urn:ngsi-ld:City:Paris\"")]
    [InlineData("locatedIn==urn:ngsi-ld:City:Pisa|locatedIn==urn:ngsi-ld:City:Paris")]
    public void SuiteExpressionsMatch(string q) => Assert.True(Q(q));

    [Theory]
    [InlineData("height")]
    [InlineData("name==\"Pisa Tower\"")]
    [InlineData("name==\"Pisa Tower\";almostFull==false")]
    [InlineData("locatedIn==urn:ngsi-ld:City:Pisa")]
    [InlineData("airQualityLevel==5")]
    public void SuiteExpressionsDoNotMatch(string q) => Assert.False(Q(q));

    [Theory]
    [InlineData("airQualityLevel>6", true)]
    [InlineData("airQualityLevel>7", false)]
    [InlineData("airQualityLevel<4", false)]
    [InlineData("airQualityLevel<=4", true)]
    [InlineData("airQualityLevel==5..8", true)]
    [InlineData("airQualityLevel==5..6", false)]
    [InlineData("airQualityLevel==1,2,7", true)]
    [InlineData("airQualityLevel==1,2,3", false)]
    [InlineData("airQualityLevel!=4", true)]
    [InlineData("name!=\"Eiffel Tower\"", false)]
    [InlineData("name!=\"Pisa\"", true)]
    [InlineData("name!=4", true)]
    [InlineData("name>4", false)]
    [InlineData("name>\"A\"", true)]
    [InlineData("name==\"A\"..\"F\"", true)]
    [InlineData("name!=\"A\"..\"F\"", false)]
    public void ComparisonsFollowTheOperator(string q, bool expected) => Assert.Equal(expected, Q(q));

    [Theory]
    [InlineData("tags==\"red\"", true)]
    [InlineData("tags==\"black\",\"red\"", true)]
    [InlineData("tags!=\"red\"", false)]
    [InlineData("tags!=\"black\"", true)]
    [InlineData("readings==5", true)]
    [InlineData("readings>8", true)]
    [InlineData("readings==2..4", false)]
    public void ArrayValuesMatchWhenAnElementMatches(string q, bool expected) => Assert.Equal(expected, Q(q));

    [Theory]
    [InlineData("airQualityLevel.accuracy", true)]
    [InlineData("airQualityLevel.accuracy>0.5", true)]
    [InlineData("airQualityLevel.precision", false)]
    [InlineData("locatedIn.since==\"1889-03-31\"", true)]
    [InlineData("locatedIn.since==1889-03-31", true)]
    [InlineData("locatedIn.since>1890-01-01", false)]
    public void DottedPathsReachSubAttributes(string q, bool expected) => Assert.Equal(expected, Q(q));

    [Theory]
    [InlineData("airQualityLevel.observedAt>=2024-05-01T11:00:00Z", true)]
    [InlineData("airQualityLevel.observedAt>=2024-05-01T13:00:00+02:00", true)]
    [InlineData("airQualityLevel.observedAt>2024-05-01T12:00:01Z", false)]
    [InlineData("airQualityLevel.unitCode==\"C62\"", true)]
    [InlineData("airQualityLevel.datasetId==urn:ngsi-ld:Dataset:b", true)]
    [InlineData("airQualityLevel.createdAt", false)]
    [InlineData("name.observedAt", false)]
    [InlineData("modifiedAt>2024-03-01T00:00:00Z", true)]
    [InlineData("createdAt>2024-03-01T00:00:00Z", false)]
    public void MetadataPathsReachInstanceMembers(string q, bool expected) => Assert.Equal(expected, Q(q));

    [Theory]
    [InlineData("address[city]==\"Paris\"", true)]
    [InlineData("address[city]==\"Berlin\"", false)]
    [InlineData("address[street.number]==5", true)]
    [InlineData("address[street.name]~=\"Mars$\"", true)]
    [InlineData("address[zip]", false)]
    [InlineData("address[city.x]", false)]
    [InlineData("ticket[value]==\"Overstay 60 minutes\"", true)]
    [InlineData("ticket[id]", true)]
    public void BracketsReachIntoCompoundValues(string q, bool expected) => Assert.Equal(expected, Q(q));

    [Theory]
    [InlineData("motto[fr]==\"Tour Eiffel\"", true)]
    [InlineData("motto[en]==\"Tour Eiffel\"", false)]
    [InlineData("motto[en]==\"Iron Lady\"", true)]
    [InlineData("motto[EN]==\"Iron Lady\"", true)]
    [InlineData("motto[*]==\"Tour Eiffel\"", true)]
    [InlineData("motto==\"Iron Lady\"", true)]
    [InlineData("motto[de]", false)]
    [InlineData("motto[en]!=\"Iron Lady\"", false)]
    [InlineData("motto[fr]!=\"Iron Lady\"", true)]
    [InlineData("motto~=\"^Tour\"", true)]
    public void LanguagePropertiesMatchByLanguage(string q, bool expected) => Assert.Equal(expected, Q(q));

    [Theory]
    [InlineData("neighbours==urn:ngsi-ld:Building:3", true)]
    [InlineData("neighbours!=urn:ngsi-ld:Building:3", false)]
    [InlineData("neighbours==urn:ngsi-ld:Building:9,urn:ngsi-ld:Building:2", true)]
    [InlineData("locatedIn>\"urn\"", false)]
    [InlineData("locatedIn~=\"Paris\"", false)]
    [InlineData("locatedIn!=urn:ngsi-ld:City:Pisa", true)]
    public void RelationshipsOnlyTakeEqualityOperators(string q, bool expected) => Assert.Equal(expected, Q(q));

    [Theory]
    [InlineData("category==Monument", true)]
    [InlineData("category==\"Monument\"", true)]
    [InlineData("category==\"https://uri.etsi.org/ngsi-ld/default-context/Monument\"", true)]
    [InlineData("category==Bridge", false)]
    public void VocabPropertiesCompareExpandedIris(string q, bool expected) => Assert.Equal(expected, Q(q));

    [Theory]
    [InlineData("openedOn<1889-05-15T08:30:00Z", true)]
    [InlineData("openedOn==1889-05-15T08:00:00Z", true)]
    [InlineData("opening>09:00:00", true)]
    [InlineData("opening<09:00:00Z", false)]
    [InlineData("built==1887-01-01..1887-12-31", true)]
    [InlineData("built>1888-01-01", false)]
    [InlineData("name>2020-01-01T00:00:00Z", false)]
    public void TemporalValuesCompareInTime(string q, bool expected) => Assert.Equal(expected, Q(q));

    [Theory]
    [InlineData("name~=Eiffel", true)]
    [InlineData("name~=\"^Eiffel Tower$\"", true)]
    [InlineData("name~=(?i)eiffel", true)]
    [InlineData("name~=^(Pisa|Eiffel) Tower$", true)]
    [InlineData("name~=^Pisa", false)]
    [InlineData("name!~=^Pisa", true)]
    [InlineData("name!~=Eiffel", false)]
    [InlineData("airQualityLevel~=4", false)]
    [InlineData("airQualityLevel!~=4", false)]
    [InlineData("name~=Pisa|almostFull==false", true)]
    public void PatternsSearchStrings(string q, bool expected) => Assert.Equal(expected, Q(q));

    [Theory]
    [InlineData("!height", true)]
    [InlineData("!name", false)]
    [InlineData("!height;name", true)]
    [InlineData("name;airQualityLevel==7;!height", true)]
    public void NegatedPathsMatchAbsence(string q, bool expected) => Assert.Equal(expected, Q(q));

    [Theory]
    [InlineData("height==1|name", true)]
    [InlineData("name|height==1;almostFull==true", true)]
    [InlineData("(name|height==1);almostFull==true", false)]
    [InlineData("((name==\"x\"|airQualityLevel>3);almostFull==false)", true)]
    public void AndBindsTighterThanOr(string q, bool expected) => Assert.Equal(expected, Q(q));

    [Fact]
    public void MultiInstanceAttributesMatchWhenAnyInstanceMatches()
    {
        Assert.True(Q("airQualityLevel==7"));
        Assert.True(Q("airQualityLevel==4"));
        // Each term is evaluated on its own: the two may be satisfied by different instances.
        Assert.True(Q("airQualityLevel==4;airQualityLevel.datasetId"));
        Assert.True(Q("airQualityLevel.datasetId"));
    }

    [Fact]
    public void UserContextTermsAreExpanded()
    {
        var context = TestContexts.Build("""{ "lvl": "https://uri.etsi.org/ngsi-ld/default-context/airQualityLevel", "ex": "https://uri.etsi.org/ngsi-ld/default-context/" }""");
        Assert.True(Q("lvl==4", context));
        Assert.True(Q("ex:airQualityLevel==4", context));
        Assert.False(Q("airQualityLevel==4", TestContexts.Build("""{ "@vocab": "https://other.example/" }""")));
    }

    [Fact]
    public void CoercedPropertyValuesCompareExpanded()
    {
        var context = TestContexts.Build("""{ "kind": { "@id": "https://example.org/kind", "@type": "@vocab" }, "Tower": "https://example.org/Tower" }""");
        var entity = new JsonObject
        {
            ["id"] = "urn:x:1",
            ["type"] = new JsonArray("https://example.org/T"),
            ["https://example.org/kind"] = new JsonArray(new JsonObject { ["type"] = "Property", ["value"] = "https://example.org/Tower" }),
        };
        Assert.True(QExpression.Parse("kind==Tower").Matches(entity, context));
        Assert.False(QExpression.Parse("kind==Bridge").Matches(entity, context));
    }
}

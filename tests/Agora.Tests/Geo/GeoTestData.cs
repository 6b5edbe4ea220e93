using System.Text.Json.Nodes;

namespace Agora.Tests.Geo;

internal static class GeoTestData
{
    public static JsonObject G(string json) => JsonNode.Parse(json)!.AsObject();

    public static JsonObject Point(double lon, double lat) =>
        new() { ["type"] = "Point", ["coordinates"] = new JsonArray(lon, lat) };

    /// One metre, in degrees of latitude, for the test radius 6,371,008.8 m.
    public const double MetreInDegrees = 180 / (Math.PI * 6_371_008.8);
}

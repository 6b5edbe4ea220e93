using System.Globalization;
using System.Text;

namespace Agora.Bench;

/// A reproducible city: entities of five Smart Data Models types spread over a 17 km square (Madrid's size),
/// with realistic attributes, units and observation times. The same seed gives the same city.
internal sealed class SyntheticCity(int seed)
{
    public const double MinLon = -3.80, MaxLon = -3.60, MinLat = 40.35, MaxLat = 40.50;
    public static readonly string[] Types = ["AirQualityObserved", "OffStreetParking", "TrafficFlowObserved", "WasteContainer", "Streetlight"];
    private readonly Random _random = new(seed);

    public (double Lon, double Lat) RandomPoint() =>
        (MinLon + _random.NextDouble() * (MaxLon - MinLon), MinLat + _random.NextDouble() * (MaxLat - MinLat));

    /// Entity number i as normalized NGSI-LD JSON (core @context: no network needed).
    public string Entity(int i) => Entity(Types[i % Types.Length], i.ToString("D7", CultureInfo.InvariantCulture));

    /// An entity of the given type whose id ends in `suffix` (a load generator's "{n}" template, say).
    public string Entity(string type, string suffix)
    {
        var (lon, lat) = RandomPoint();
        var observed = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(_random.Next(0, 30 * 86400)).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var b = new StringBuilder(600);
        b.Append(CultureInfo.InvariantCulture, $$"""{"id":"urn:ngsi-ld:{{type}}:{{suffix}}","type":"{{type}}","location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[{{lon:F6}},{{lat:F6}}]""").Append("}}");
        switch (type)
        {
            case "AirQualityObserved":
                Number(b, "NO2", _random.Next(0, 200), "GQ", observed);
                Number(b, "PM10", _random.Next(0, 100), "GQ", observed);
                Number(b, "temperature", Math.Round(_random.NextDouble() * 40 - 5, 1), "CEL", observed);
                Text(b, "airQualityLevel", _random.Next(4) switch { 0 => "good", 1 => "moderate", 2 => "unhealthy", _ => "veryUnhealthy" });
                break;
            case "OffStreetParking":
                Number(b, "availableSpotNumber", _random.Next(0, 300), null, observed);
                Number(b, "totalSpotNumber", 300, null, null);
                Text(b, "status", _random.Next(10) == 0 ? "closed" : "open");
                break;
            case "TrafficFlowObserved":
                Number(b, "intensity", _random.Next(0, 2000), "E50", observed);
                Number(b, "averageVehicleSpeed", _random.Next(0, 90), "KMH", observed);
                Number(b, "occupancy", Math.Round(_random.NextDouble(), 3), "C62", observed);
                break;
            case "WasteContainer":
                Number(b, "fillingLevel", Math.Round(_random.NextDouble(), 3), "C62", observed);
                Number(b, "temperature", Math.Round(_random.NextDouble() * 40 - 5, 1), "CEL", observed);
                Text(b, "status", _random.Next(20) == 0 ? "burning" : "ok");
                break;
            default:
                Text(b, "powerState", _random.Next(2) == 0 ? "on" : "off");
                Number(b, "illuminanceLevel", Math.Round(_random.NextDouble(), 2), "C62", observed);
                Text(b, "status", _random.Next(50) == 0 ? "defectiveLamp" : "ok");
                break;
        }
        b.Append('}');
        return b.ToString();
    }

    private static void Number(StringBuilder b, string name, double value, string? unit, string? observedAt)
    {
        b.Append(",\"").Append(name).Append("\":{\"type\":\"Property\",\"value\":").Append(value.ToString(CultureInfo.InvariantCulture));
        if (unit is not null)
        {
            b.Append(",\"unitCode\":\"").Append(unit).Append('"');
        }
        if (observedAt is not null)
        {
            b.Append(",\"observedAt\":\"").Append(observedAt).Append('"');
        }
        b.Append('}');
    }

    private static void Text(StringBuilder b, string name, string value) =>
        b.Append(CultureInfo.InvariantCulture, $$""","{{name}}":{"type":"Property","value":"{{value}}"}""");
}

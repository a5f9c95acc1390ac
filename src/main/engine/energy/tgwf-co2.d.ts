// Types for the part of @tgwf/co2 (CO2.js) that Pollard reads: Electricity Maps' yearly
// grid-intensity averages, bundled in the package (the package ships no declarations).
declare module '@tgwf/co2/data/electricity-maps' {
  export interface ElectricityMapsZoneYear {
    zone: { zoneName: string };
    carbonIntensity: { value: number; unit: string };
  }
  export interface ElectricityMapsYear {
    data: Record<string, ElectricityMapsZoneYear>;
    methodology?: string;
  }
  const yearly: Record<string, ElectricityMapsYear>;
  export default yearly;
}

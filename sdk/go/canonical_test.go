package atomic

import "testing"

func TestNumbersAsECMAScriptWritesThem(t *testing.T) {
	cases := map[float64]string{1e21: "1e+21", 1e20: "100000000000000000000", 1e-7: "1e-7", 0.000001: "0.000001", 5: "5", 1.0 / 3: "0.3333333333333333", 123.456: "123.456", 5e-324: "5e-324", -1.5e-7: "-1.5e-7", 18446744073709551616: "18446744073709552000"}
	for value, want := range cases {
		if got := formatNumber(value); got != want {
			t.Errorf("%g: want %s, got %s", value, want, got)
		}
	}
}

func TestKeysSortByUTF16CodeUnits(t *testing.T) {
	value, err := parseJSON([]byte(`{"\uffff":1,"\ud83d\ude00":2,"a":[true,null,"\u0007\u001f\u007f\u2028"]}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := canonicalize(value)
	want := "{\"a\":[true,null,\"\\u0007\\u001f\u007f\u2028\"],\"\U0001F600\":2,\"\uffff\":1}"
	if err != nil || got != want {
		t.Fatalf("want %s, got %s (%v)", want, got, err)
	}
}

/* tests/normalize/test_codes.c — document codes, phone numbers, money, units, percent. */
#include "tests/normalize/nz_test.h"

int main(void)
{
    nz_test_init();
    /* document codes */
    EXPECT("số 2228/QĐ-UBND", "số hai nghìn hai trăm hai mươi tám quyết định Ủy ban nhân dân.");
    EXPECT("số 15/2024/NĐ-CP", "số mười lăm năm hai nghìn không trăm hai mươi tư nghị định "
                               "Chính phủ.");
    EXPECT("số 12-CT/HU", "số mười hai chỉ thị Huyện ủy.");
    EXPECT("số 05/KH-UBND", "số không năm kế hoạch Ủy ban nhân dân.");
    EXPECT("Kế hoạch 133/KH-UBND", "Kế hoạch một trăm ba mươi ba kế hoạch Ủy ban nhân dân.");
    EXPECT("35-NQ/TW", "ba mươi lăm nghị quyết Trung ương.");
    EXPECT("số 5/2024/TT-BYT", "số năm năm hai nghìn không trăm hai mươi tư thông tư Bộ Y tế.");
    /* phone numbers */
    EXPECT("0203.3851.246", "không hai không ba, ba tám năm một, hai bốn sáu.");
    EXPECT("0912 345 678", "không chín một hai, ba bốn năm, sáu bảy tám.");
    EXPECT("0912345678", "không chín một hai, ba bốn năm, sáu bảy tám.");
    EXPECT("1900 1006", "một chín không không, một không không sáu.");
    EXPECT("19001006", "một chín không không, một không không sáu.");
    EXPECT("hotline 1800.1091", "hotline một tám không không, một không chín một.");
    EXPECT("gọi 113", "gọi một một ba.");
    EXPECT("gọi ngay 115", "gọi ngay một một năm.");
    EXPECT("có 113 hộ", "có một trăm mười ba hộ.");
    EXPECT("(0203) 3851 246", "không hai không ba, ba tám năm một, hai bốn sáu.");
    EXPECT("số 12/2024/TT-BTC", "số mười hai năm hai nghìn không trăm hai mươi tư thông tư "
                                "Bộ Tài chính.");
    EXPECT("+84 912 345 678", "cộng tám bốn, chín một hai, ba bốn năm, sáu bảy tám.");
    EXPECT("+84912345678", "cộng tám bốn, chín một hai, ba bốn năm, sáu bảy tám.");
    EXPECT("ĐT: 3851246", "điện thoại: ba tám năm một hai bốn sáu.");
    /* issue 20: a dotted group of one digit after a leading 0, the bracketed area code, a
     * 7/8-digit subscriber part in groups; amounts never start with 0 */
    EXPECT("0235.3.888.999", "không hai ba năm, ba, tám tám tám, chín chín chín.");
    EXPECT("Liên hệ 0234.3.812.345.", "Liên hệ không hai ba bốn, ba, tám một hai, ba bốn năm.");
    EXPECT("0912.345.678", "không chín một hai, ba bốn năm, sáu bảy tám.");
    EXPECT("(0235) 3888999", "không hai ba năm, ba, tám tám tám, chín chín chín.");
    EXPECT("(024) 38251234", "không hai bốn, ba tám hai năm, một hai ba bốn.");
    EXPECT("hỗ trợ 1.500.000 đồng", "hỗ trợ một triệu năm trăm nghìn đồng.");
    EXPECT("đạt 2.050.000", "đạt hai triệu không trăm năm mươi nghìn.");
    EXPECT("05.3 điểm", "năm chấm ba điểm.");
    /* issue 20: "/" in a document number is silent, a year part is "năm YYYY" */
    EXPECT("Quyết định 125/QĐ-UBND", "Quyết định một trăm hai mươi lăm quyết định Ủy ban nhân dân.");
    EXPECT("số 12/2024/NĐ-CP", "số mười hai năm hai nghìn không trăm hai mươi tư nghị định "
                               "Chính phủ.");
    EXPECT("đạt 1/2 số hộ", "đạt một trên hai số hộ.");
    EXPECT("ngày 15/5/2023", "ngày mười lăm tháng năm năm hai nghìn không trăm hai mươi ba.");
    /* money */
    EXPECT("45.500.000đ", "bốn mươi lăm triệu năm trăm nghìn đồng.");
    EXPECT("500.000 đồng", "năm trăm nghìn đồng.");
    EXPECT("50 USD", "năm mươi đô la Mỹ.");
    EXPECT("100 VNĐ", "một trăm đồng.");
    EXPECT("1,5 tr.đ", "một phẩy năm triệu đồng.");
    EXPECT("1,5 triệu", "một phẩy năm triệu.");
    EXPECT("1.806 đồng/kWh", "một nghìn tám trăm linh sáu đồng một ki lô oát giờ.");
    EXPECT("đồng/người/tháng", "đồng một người một tháng.");
    EXPECT("0,5%/tháng", "không phẩy năm phần trăm một tháng.");
    EXPECT("115%", "một trăm mười lăm phần trăm.");
    /* units */
    EXPECT("2,5 km", "hai phẩy năm ki lô mét.");
    EXPECT("210 ha", "hai trăm mười héc ta.");
    EXPECT("3 km2", "ba ki lô mét vuông.");
    EXPECT("120 m²", "một trăm hai mươi mét vuông.");
    EXPECT("5 m3", "năm mét khối.");
    EXPECT("50 mm", "năm mươi mi li mét.");
    EXPECT("20 kg", "hai mươi ki lô gam.");
    EXPECT("60 km/h", "sáu mươi ki lô mét trên giờ.");
    EXPECT("10 m/s", "mười mét trên giây.");
    EXPECT("55 tạ/ha", "năm mươi lăm tạ trên héc ta.");
    EXPECT("39,5°C", "ba mươi chín phẩy năm độ xê.");
    EXPECT("-5°C", "âm năm độ xê.");
    EXPECT("âm 3 độ C", "âm ba độ xê.");
    EXPECT("100 MW", "một trăm mê ga oát.");
    nz_test_done();
    return check_done();
}

/* tests/normalize/test_dates.c — dates, N/M, ranges and times (READING.md). */
#include "tests/normalize/nz_test.h"

int main(void)
{
    nz_test_init();
    EXPECT("Ngày 19/8/2024, xã họp.",
           "Ngày mười chín tháng tám năm hai nghìn không trăm hai mươi tư, xã họp.");
    EXPECT("15-5-2023", "ngày mười lăm tháng năm năm hai nghìn không trăm hai mươi ba.");
    EXPECT("15.5.2023", "ngày mười lăm tháng năm năm hai nghìn không trăm hai mươi ba.");
    EXPECT("ngày 15/5/23", "ngày mười lăm tháng năm năm hai mươi ba.");
    EXPECT("quý 3/2024", "quý ba năm hai nghìn không trăm hai mươi tư.");
    EXPECT("ngày 01/01/2025", "ngày một tháng một năm hai nghìn không trăm hai mươi lăm.");
    EXPECT("Sáng 02/9", "Sáng ngày hai tháng chín.");
    EXPECT("Tối 14/2, họp", "Tối ngày mười bốn tháng hai, họp.");
    EXPECT("ngày 15/4", "ngày mười lăm tháng tư.");
    EXPECT("mồng 5/6", "mồng năm tháng sáu.");
    EXPECT("từ tháng 3/2025", "từ tháng ba năm hai nghìn không trăm hai mươi lăm.");
    EXPECT("từ 3/2025", "từ tháng ba năm hai nghìn không trăm hai mươi lăm.");
    EXPECT("ngày 20-22/4", "ngày hai mươi đến hai mươi hai tháng tư.");
    EXPECT("ngày 11/112021", "ngày mười một tháng mười một năm hai nghìn không trăm hai mươi mốt.");
    /* N/M that is not a date */
    EXPECT("đạt 54/54", "đạt năm mươi tư trên năm mươi tư.");
    EXPECT("có 8/10 thôn", "có tám trên mười thôn.");
    EXPECT("12/12 xã", "mười hai trên mười hai xã.");
    EXPECT("trực 24/24 giờ", "trực hai mươi tư trên hai mươi tư giờ.");
    EXPECT("19/19 tiêu chí", "mười chín trên mười chín tiêu chí.");
    EXPECT("31/2", "ba mươi mốt trên hai.");
    EXPECT("trực 24/7", "trực hai mươi tư trên bảy.");
    EXPECT("năm học 2022/2023", "năm học hai nghìn không trăm hai mươi hai đến hai nghìn không "
                                "trăm hai mươi ba.");
    EXPECT("120/150 hộ", "một trăm hai mươi trên một trăm năm mươi hộ.");
    /* ranges */
    EXPECT("giai đoạn 2021-2025", "giai đoạn hai nghìn không trăm hai mươi mốt đến hai nghìn "
                                  "không trăm hai mươi lăm.");
    EXPECT("năm 2022 - 2023", "năm hai nghìn không trăm hai mươi hai đến hai nghìn không trăm "
                              "hai mươi ba.");
    EXPECT("5-7 ngày", "năm đến bảy ngày.");
    EXPECT("10–15%", "mười đến mười lăm phần trăm.");
    EXPECT("8-10°C", "tám đến mười độ xê.");
    /* times */
    EXPECT("6h30", "sáu giờ ba mươi phút.");
    EXPECT("5h", "năm giờ.");
    EXPECT("8g00", "tám giờ.");
    EXPECT("06:00", "sáu giờ.");
    EXPECT("17:30", "mười bảy giờ ba mươi phút.");
    EXPECT("14 giờ 30", "mười bốn giờ ba mươi phút.");
    EXPECT("7 giờ 30 phút", "bảy giờ ba mươi phút.");
    EXPECT("16 giờ 00 phút", "mười sáu giờ.");
    EXPECT("7h-11h", "bảy giờ đến mười một giờ.");
    EXPECT("7h30 - 11h30", "bảy giờ ba mươi phút đến mười một giờ ba mươi phút.");
    EXPECT("từ 5h đến 10h30 sáng", "từ năm giờ đến mười giờ ba mươi phút sáng.");
    nz_test_done();
    return check_done();
}
